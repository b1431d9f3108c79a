import Foundation
import Testing

/// `GET /v1/events` (Server-Sent Events) against a real server: what a dashboard and a
/// browser's EventSource rely on.
@Suite struct ServerEventTests {
    @Test func runEventsArriveLiveWithIncreasingIDs() async throws {
        try await withTestServer { server in
            let port = try server.port
            let stream = try EventStreamClient(port: port, target: "/v1/events")
            let hello = try await RawSocket.offload { try stream.next("hello") }
            #expect(stream.status == 200)
            #expect(stream.headers["content-type"]?.hasPrefix("text/event-stream") == true)
            #expect(stream.headers["cache-control"] == "no-cache")
            let created = try await server.submit(["tasks": [["name": "a", "command": "exit 4"]]])
            let id = try #require(created["id"] as? String)
            let (first, ended) = try await RawSocket.offload { () throws -> (SSEFrame, SSEFrame) in
                let first = try stream.next("run.created")
                while true {
                    let frame = try stream.next("run.updated")
                    if (try frame.json())["status"] as? String == "failed" { return (first, frame) }
                }
            }
            #expect(try first.json()["id"] as? String == id)
            #expect(try first.json()["status"] as? String == "queued")
            let counts = try #require(try ended.json()["counts"] as? [String: Int])
            #expect(counts["failed"] == 1 && counts["pending"] == 0, "\(counts)")
            let sequence = { (frame: SSEFrame) in UInt64(frame.id?.split(separator: ".").last ?? "") ?? 0 }
            #expect(sequence(first) > sequence(hello))
            #expect(sequence(ended) > sequence(first))
            // Without ?run= the stream carries no task events.
            #expect(first.id?.split(separator: ".").first == hello.id?.split(separator: ".").first)
        }
    }

    @Test func taskAndLogEventsNeedTheirFilters() async throws {
        try await withTestServer { server in
            let port = try server.port
            let created = try await server.submit([
                "tasks": [["name": "talk", "command": "echo one; " + waitForFileCommand("go") + "; echo two"]]
            ])
            let id = try #require(created["id"] as? String)
            let stream = try EventStreamClient(port: port, target: "/v1/events?run=\(id)&logs=talk")
            _ = try await RawSocket.offload { try stream.next("hello") }
            try await server.waitForTask(id, "talk", status: "running")
            try server.touch("go")
            let frames = try await RawSocket.offload { () throws -> [SSEFrame] in
                var frames: [SSEFrame] = []
                while let frame = try stream.next() {
                    frames.append(frame)
                    if frame.event == "log.appended", (try frame.json())["complete"] as? Bool == true { break }
                }
                return frames
            }
            let logs = try frames.filter { $0.event == "log.appended" }.map { try $0.json() }
            let last = try #require(logs.last)
            #expect(last["size"] as? Int == 8, "one\\ntwo\\n is 8 bytes: \(logs)")
            #expect(last["task"] as? String == "talk")
            let log = try await server.client.get("/v1/runs/\(id)/tasks/talk/log")
            #expect(log.body.count == 8)
            try await server.waitForRun(id)
        }
    }

    /// What a dashboard of workflows listens to: stored workflows changing and webhook
    /// deliveries arriving; and, after a real restart of the server, a reconnect with the
    /// old Last-Event-ID gets one `reset` (the new server cannot know what was missed).
    @Test func workflowAndDeliveryEventsArriveAndARestartMeansReset() async throws {
        try await withTestServer { server in
            let stream = try EventStreamClient(port: try server.port, target: "/v1/events")
            _ = try await RawSocket.offload { try stream.next("hello") }
            try await HooksTests.storeHookWorkflow(server, "ci", secret: "s3")
            let updated = try await RawSocket.offload { try stream.next("workflow.updated") }
            #expect(try updated.json()["name"] as? String == "ci", "\(updated)")
            let body = Data(#"{"ref":"main"}"#.utf8)
            let response = try await server.hook(
                "ci", body: body, headers: ["X-Hub-Signature-256": TestHMAC.signature(body, secret: "s3")])
            #expect(response.status == 202, "\(response)")
            let delivery = try await RawSocket.offload { try stream.next("delivery.received") }
            #expect("\(try delivery.json())".contains("ci"), "\(delivery)")
            let lastSeen = try #require(delivery.id)

            await server.stop()
            try await server.start()
            let again = try EventStreamClient(
                port: try server.port, target: "/v1/events", headers: [("Last-Event-ID", lastSeen)])
            let first = try await RawSocket.offload { () throws -> SSEFrame in
                _ = try again.next("hello")
                return try #require(try again.next())
            }
            #expect(first.event == "reset", "\(first)")
        }
    }

    @Test func reconnectWithLastEventIDReplaysWhatWasMissedAndAStrangerGetsAReset() async throws {
        try await withTestServer { server in
            let port = try server.port
            let first = try EventStreamClient(port: port, target: "/v1/events")
            let hello = try await RawSocket.offload { try first.next("hello") }
            let lastSeen = try #require(hello.id)
            first.socket.shutdownBoth()
            // Missed while disconnected:
            let created = try await server.submit(["tasks": [["name": "a", "command": "true"]]])
            let id = try #require(created["id"] as? String)
            try await server.waitForRun(id)

            let again = try EventStreamClient(port: port, target: "/v1/events", headers: [("Last-Event-ID", lastSeen)])
            let replayed = try await RawSocket.offload { () throws -> [SSEFrame] in
                _ = try again.next("hello")
                var frames: [SSEFrame] = []
                while true {
                    let frame = try #require(try again.next())
                    frames.append(frame)
                    if frame.event == "run.updated", (try frame.json())["status"] as? String == "succeeded" {
                        return frames
                    }
                }
            }
            #expect(!replayed.contains { $0.event == "reset" })
            #expect(try replayed.first { $0.event == "run.created" }?.json()["id"] as? String == id)

            let stranger = try EventStreamClient(
                port: port, target: "/v1/events?last_event_id=someotherboot.5")
            let reset = try await RawSocket.offload { () throws -> SSEFrame in
                _ = try stranger.next("hello")
                return try #require(try stranger.next())
            }
            #expect(reset.event == "reset")
        }
    }

    @Test func openStreamsAreLimitedWith503AndRetryAfter() async throws {
        try await withTestServer(ServerOptions(extraArguments: ["--max-event-streams", "2"])) { server in
            let port = try server.port
            let one = try EventStreamClient(port: port, target: "/v1/events")
            let two = try EventStreamClient(port: port, target: "/v1/events")
            _ = try await RawSocket.offload { try one.next("hello") }
            _ = try await RawSocket.offload { try two.next("hello") }
            let refused = try await server.client.get("/v1/events")
            #expect(refused.status == 503, "\(refused)")
            #expect(refused.header("Retry-After") == "5")
            #expect(refused.mediaType == "application/problem+json")
            // Closing a stream frees its slot.
            one.socket.shutdownBoth()
            try await waitUntil("the slot to be free", within: .seconds(10)) {
                let third = try EventStreamClient(port: port, target: "/v1/events", readTimeout: .seconds(5))
                try third.readHead()
                return third.status == 200
            }
            let metrics = try await server.client.get("/metrics")
            let refusals = String(decoding: metrics.body, as: UTF8.self).split(separator: "\n")
                .first { $0.hasPrefix("baton_event_stream_closes_total{reason=\"limit\"} ") }
                .flatMap { Double($0.split(separator: " ").last ?? "") }
            #expect((refusals ?? 0) >= 1, "refusals are counted")
            let clientCloses = String(decoding: metrics.body, as: UTF8.self)
                .contains("baton_event_stream_closes_total{reason=\"client\"} 1")
            #expect(clientCloses, "the hung-up stream is counted as closed by its client")
        }
    }

    @Test func browsersMayPassTheTokenAsAccessTokenOnTheEventsRouteOnly() async throws {
        let token = "s3cret-token-for-events"
        try await withTestServer(ServerOptions(token: token)) { server in
            let port = try server.port
            let stream = try EventStreamClient(port: port, target: "/v1/events?access_token=\(token)")
            _ = try await RawSocket.offload { try stream.next("hello") }
            #expect(stream.status == 200)
            let anonymous = try await server.client.request("GET", "/v1/events", authorization: "")
            #expect(anonymous.status == 401)
            let wrong = try await server.client.request("GET", "/v1/events?access_token=nope", authorization: "")
            #expect(wrong.status == 401)
            let elsewhere = try await server.client.request("GET", "/v1/runs?access_token=\(token)", authorization: "")
            #expect(elsewhere.status == 401, "access_token works on /v1/events only")
            let metrics = try await server.client.request("GET", "/metrics", authorization: "")
            #expect(metrics.status == 401, "/metrics needs the token too")
            stream.socket.shutdownBoth()
            _ = try await server.terminate()
            #expect(!(try server.process.stderr).contains(token), "the token never reaches the log")
        }
    }

    /// A caught-up HTTP/1.1 stream is written by the event thread straight to its socket,
    /// one chunk per batch; HTTP/1.0 (no chunks) and `Connection: close` streams are
    /// written by libmicrohttpd. Every one gets every event, and the chunked coding stays
    /// whole (the client checks every chunk's size line and CRLF).
    @Test func directlyWrittenAndLibraryWrittenStreamsGetEveryEventInOrder() async throws {
        try await withTestServer { server in
            let port = try server.port
            let streams = [
                try EventStreamClient(port: port, target: "/v1/events"),
                try EventStreamClient(port: port, target: "/v1/events", version: "HTTP/1.0"),
                try EventStreamClient(port: port, target: "/v1/events", headers: [("Connection", "close")]),
            ]
            for stream in streams { _ = try await RawSocket.offload { try stream.next("hello") } }
            var ids: [String] = []
            for _ in 0..<40 {
                let created = try await server.submit(["tasks": [["name": "a", "command": "true"]]])
                ids.append(try #require(created["id"] as? String))
            }
            let expected = ids
            for (index, stream) in streams.enumerated() {
                let seen = try await RawSocket.offload { () throws -> [String] in
                    var seen: [String] = []
                    while seen.count < expected.count {
                        let frame = try stream.next("run.created")
                        seen.append(try frame.json()["id"] as? String ?? "")
                    }
                    return seen
                }
                #expect(seen == expected, "stream \(index)")
            }
            #expect(streams[0].headers["transfer-encoding"] == "chunked")
            let metrics = String(decoding: try await server.client.get("/metrics").body, as: UTF8.self)
            let direct = metrics.split(separator: "\n").first { $0.hasPrefix("baton_event_chunks_direct_total ") }
            let written = direct?.split(separator: " ").last.flatMap { Double($0) } ?? 0
            #expect(written > 0, "written directly: \(direct ?? "-")")
            #expect(streams[1].headers["transfer-encoding"] == nil, "HTTP/1.0: the bytes bare")
        }
    }

    @Test func aServerStopEndsOpenStreamsCleanly() async throws {
        try await withTestServer { server in
            let stream = try EventStreamClient(port: try server.port, target: "/v1/events")
            _ = try await RawSocket.offload { try stream.next("hello") }
            let started = ContinuousClock.now
            let exit = try await server.terminate()
            #expect(exit.status == 0, "\(exit)")
            #expect(ContinuousClock.now - started < .seconds(10))
            let after = try await RawSocket.offload { try stream.next() }
            #expect(after == nil, "the stream ends with the server")
        }
    }
}
