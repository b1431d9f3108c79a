import BatonCore
import BatonHTTP
import Crypto
import Foundation

/// `POST /v1/hooks/{name}` (SPEC §4): CI systems start a stored workflow, authenticated by
/// the signature of the body instead of the bearer token.
struct HooksAPI: Sendable {
    let context: APIContext

    /// Headers that carry a delivery id, by CI system; a repeated id is not a new run.
    static let deliveryHeaders = ["X-GitHub-Delivery", "X-Gitlab-Event-UUID", "X-Baton-Delivery"]
    static let eventHeaders = ["X-GitHub-Event", "X-Gitlab-Event", "X-Baton-Event"]

    func receive(_ request: HTTPRequest, _ parameters: RouteParameters) throws -> HTTPResponse {
        let name = parameters["name"] ?? ""
        let deliveryID = Self.deliveryHeaders.lazy.compactMap { request.headers[$0] }.first { !$0.isEmpty }
        let event = Self.eventHeaders.lazy.compactMap { request.headers[$0] }.first { !$0.isEmpty }
        let note = { (result: WebhookResult, runID: String?) in
            remember(
                DeliveryLog.Entry(
                    workflow: name, delivery: deliveryID, event: event, result: result, runID: runID, at: Date()))
        }
        guard let workflow = try context.workflows.workflow(name: name), let secret = workflow.webhookSecret else {
            note(.unknownHook, nil)
            throw APIError.notFound("no webhook \"\(name)\"")
        }
        guard WebhookSignature.verify(request: request, secret: secret) else {
            note(.badSignature, nil)
            return ProblemFactory.unauthenticated(
                "missing or invalid signature: send X-Hub-Signature-256 or X-Baton-Signature-256 "
                    + "(sha256=<hex HMAC-SHA256 of the body>) or X-Gitlab-Token")
        }
        if workflow.paused {
            note(.invalid, nil)
            throw APIError.conflict("workflow \"\(name)\" is paused")
        }
        let key = "hook:\(name):\(deliveryID ?? "anonymous-" + RunID.generate())"
        var spec = try SpecParser.parse(workflow.specJSON, format: .json, cores: context.cores, maxTasks: Int.max)
        let runID = RunID.generate()
        let payload = try PayloadFile.write(request.body, runID: runID, dataDirectory: context.dataDirectory)
        // In the spec's env, so that a resumed run (after a restart) still has them.
        spec.env["BATON_WEBHOOK_PAYLOAD"] = payload.path
        if let event { spec.env["BATON_WEBHOOK_EVENT"] = event }
        let specJSON = SpecEncoder.encode(spec)
        let record = RunRecord(
            id: runID, name: spec.name, workflow: name, trigger: .webhook(deliveryID: deliveryID, event: event),
            createdAt: Date(), specJSON: specJSON, specHash: ContentDigest.hex(specJSON))
        switch try context.creator.create(record, spec: spec, key: key) {
        case .duplicate(let existing):
            try? FileManager.default.removeItem(at: payload)
            note(.duplicate, existing)
            return RunsAPI.json(202, HookAnswer(runID: existing, duplicate: true))
        case .inserted:
            note(.accepted, runID)
            return RunsAPI.json(202, HookAnswer(runID: runID, duplicate: false))
        }
    }

    static func isHookRequest(_ request: HTTPRequest) -> Bool {
        request.method == "POST" && request.pathSegments.count == 3 && request.pathSegments[0] == "v1"
            && request.pathSegments[1] == "hooks"
    }

    /// Refuses, once the headers are in and before any body byte is read, a delivery to
    /// a hook that does not exist and one whose `Content-Length` is over the hook limit.
    func refusalBeforeBody(_ request: HTTPRequest) -> HTTPResponse? {
        guard Self.isHookRequest(request) else { return nil }
        let name = request.pathSegments[2]
        let known = ((try? context.workflows.workflow(name: name)) ?? nil)?.webhookSecret != nil
        if !known {
            remember(
                DeliveryLog.Entry(
                    workflow: name, delivery: nil, event: nil, result: .unknownHook, runID: nil, at: Date()))
            return ProblemFactory.notFound("no webhook \"\(name)\"")
        }
        if let length = request.headers["Content-Length"].flatMap({ Int($0) }), length > context.maxHookBodyBytes {
            remember(
                DeliveryLog.Entry(workflow: name, delivery: nil, event: nil, result: .invalid, runID: nil, at: Date()))
            return ProblemFactory.contentTooLarge(limit: context.maxHookBodyBytes)
        }
        return nil
    }

    /// Keeps a delivery for the console, counts it, and tells live clients.
    func remember(_ entry: DeliveryLog.Entry) {
        context.deliveries.record(entry)
        guard let live = context.live else { return }
        live.metrics.webhooks.increment([entry.result.rawValue])
        live.publish(.deliveryReceived, runID: entry.runID, data: entry.json)
    }

    /// `GET /v1/workflows/{name}/deliveries`: the last deliveries this server received.
    func deliveries(_ request: HTTPRequest, _ parameters: RouteParameters) throws -> HTTPResponse {
        let name = parameters["name"] ?? ""
        guard try context.workflows.workflow(name: name) != nil else {
            throw APIError.notFound("no workflow \"\(name)\"")
        }
        let items = context.deliveries.recent(name).map(\.json).joined(separator: ",")
        return .text(200, "{\"deliveries\":[\(items)]}", contentType: "application/json")
    }
}

/// `{"run_id", "duplicate"}`.
struct HookAnswer: Encodable {
    var runID: String
    var duplicate: Bool

    enum CodingKeys: String, CodingKey {
        case runID = "run_id"
        case duplicate
    }
}

/// Where a webhook's body is kept for its tasks (`BATON_WEBHOOK_PAYLOAD`).
enum PayloadFile {
    static func write(_ body: Data, runID: String, dataDirectory: URL) throws -> URL {
        let directory = dataDirectory.appendingPathComponent("payloads")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent("\(runID).json")
        try body.write(to: url, options: .atomic)
        return url
    }
}

/// Signature checks of SPEC §4, all in constant time.
enum WebhookSignature {
    static func verify(request: HTTPRequest, secret: String) -> Bool {
        let key = SymmetricKey(data: Data(secret.utf8))
        for header in ["X-Baton-Signature-256", "X-Hub-Signature-256"] {
            guard let value = request.headers[header] else { continue }
            guard value.lowercased().hasPrefix("sha256="), let mac = hexBytes(value.dropFirst(7)) else { return false }
            // swift-crypto compares authentication codes in constant time.
            return HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: request.body, using: key)
        }
        if let token = request.headers["X-Gitlab-Token"] {
            return ConstantTime.equal(Array(token.utf8), Array(secret.utf8))
        }
        return false
    }

    static func hexBytes(_ text: Substring) -> [UInt8]? {
        guard text.count == 64 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            guard let byte = UInt8(text[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        return bytes
    }
}
