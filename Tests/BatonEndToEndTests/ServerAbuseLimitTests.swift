import Foundation
import Glibc
import Testing

/// SPEC §4, "a slow or stalled client never holds up the others": limits that refuse work
/// before it costs memory or slots (docs: README "Limits").
@Suite struct ServerAbuseLimitTests {
    /// Sends only the head of a request and reads the answer: it must come without the body.
    func answerToHead(_ port: Int, _ head: String) async throws -> HTTPResponse {
        try await RawSocket.offload {
            let socket = try RawSocket(port: port, readTimeout: .seconds(10))
            try socket.send(head)
            return try HTTPResponse.parse(try socket.readToEnd())
        }
    }

    @Test func anUnknownHookAndAnOversizedHookBodyAreRefusedBeforeTheBodyIsRead() async throws {
        try await withTestServer { server in
            try await HooksTests.storeHookWorkflow(server, "ci", secret: "s")
            let port = try server.port
            let unknown = try await answerToHead(
                port, "POST /v1/hooks/nope HTTP/1.1\r\nHost: x\r\nContent-Length: 16000000\r\n\r\n")
            #expect(unknown.status == 404, "\(unknown)")
            let big = try await answerToHead(
                port, "POST /v1/hooks/ci HTTP/1.1\r\nHost: x\r\nContent-Length: 1048577\r\n\r\n")
            #expect(big.status == 413, "\(big)")
            #expect(big.text.contains("1048576"), "the limit is named: \(big.text)")
            let deliveries = try await server.client.get("/v1/workflows/ci/deliveries")
            #expect(deliveries.text.contains("\"result\":\"invalid\""), "\(deliveries.text)")
        }
    }

    @Test func bodiesBufferedAtOnceAreCappedAcrossConnections() async throws {
        let options = ServerOptions(
            maxBodyBytes: 1 << 20, extraArguments: ["--max-buffered-bytes", String(2 << 20)])
        try await withTestServer(options) { server in
            let port = try server.port
            let head =
                "POST /v1/runs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1048576\r\n\r\n"
            // Two uploads that announce 1 MiB each and stall hold the whole budget…
            let stalled = try (0..<2).map { _ in try RawSocket(port: port) }
            for socket in stalled { try socket.send(head + "{") }
            // Their heads are in once the server answers something else after them.
            #expect(try await server.client.get("/healthz").status == 200)
            try await Task.sleep(for: .milliseconds(200))
            // …so a third is told to come back, at once and before sending its body.
            let third = try await answerToHead(port, head)
            #expect(third.status == 503, "\(third)")
            #expect(third.header("Retry-After") == "1")
            // Requests without a body still pass.
            #expect(try await server.client.get("/healthz").status == 200)
            for socket in stalled { socket.shutdownBoth() }
            var accepted = false
            for _ in 0..<100 where !accepted {
                let spec = try JSONSerialization.data(withJSONObject: ["tasks": [["name": "a", "command": "true"]]])
                accepted =
                    try await server.client.post("/v1/runs", body: spec, contentType: "application/json").status == 201
                if !accepted { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(accepted, "the budget is released when the stalled uploads go away")
        }
    }

    @Test func oneAddressCannotTakeEveryConnection() async throws {
        try await withTestServer(ServerOptions(extraArguments: ["--max-connections-per-ip", "4"])) { server in
            let port = try server.port
            let held = try (0..<4).map { _ in try RawSocket(port: port) }
            try await Task.sleep(for: .milliseconds(200))
            // The fifth connection from 127.0.0.1 is closed without an answer.
            let refused = try await RawSocket.offload { () throws -> Data in
                let socket = try RawSocket(port: port, readTimeout: .seconds(10))
                try? socket.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                return (try? socket.readToEnd()) ?? Data()
            }
            #expect(refused.isEmpty, "answered beyond the per-IP limit: \(String(decoding: refused, as: UTF8.self))")
            held[0].shutdownBoth()
            var answered = false
            for _ in 0..<100 where !answered {
                answered = (try? await server.client.get("/healthz").status) == 200
                if !answered { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(answered, "a slot freed by the same address is usable again")
            withExtendedLifetime(held) {}
        }
    }

    /// Slowloris: connections that trickle header bytes never go idle, so only a deadline on
    /// the head closes them. Before it existed they held the per-IP slots for as long as the
    /// client liked.
    @Test func connectionsThatTrickleTheirHeadAreClosedAtTheDeadline() async throws {
        let options = ServerOptions(
            extraArguments: ["--max-connections-per-ip", "4", "--request-head-deadline", "1"])
        try await withTestServer(options) { server in
            let port = try server.port
            let tricklers = try (0..<4).map { _ in try RawSocket(port: port, readTimeout: .seconds(10)) }
            for socket in tricklers { try socket.send("GET /healthz HTTP/1.1\r\nHost: x\r\n") }
            // One header byte per 100 ms for up to 5 s: never inactive, never complete.
            let trickled = try await RawSocket.offload { () -> [Bool] in
                var open = [Bool](repeating: true, count: tricklers.count)
                for _ in 0..<50 where open.contains(true) {
                    usleep(100_000)
                    for (index, socket) in tricklers.enumerated() where open[index] {
                        if (try? socket.send("X")) == nil { open[index] = false }
                    }
                }
                return open
            }
            #expect(!trickled.contains(true), "trickling connections still open after 5 s: \(trickled)")
            // What the server sent them before closing: nothing (the head never arrived).
            for socket in tricklers {
                #expect(((try? socket.readToEnd()) ?? Data()).isEmpty)
            }
            // The address gets its slots back.
            var answered = false
            for _ in 0..<100 where !answered {
                answered = (try? await server.client.get("/healthz").status) == 200
                if !answered { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(answered)
            let log = try server.process.stderr
            #expect(log.contains("request head did not arrive in time"), "\(log.suffix(2000))")
        }
    }

    @Test func stalledLogReadersDoNotMakeTheServerHoldCopiesOfTheLog() async throws {
        try await withTestServer { server in
            let created = try await server.submit([
                "tasks": [["name": "big", "command": "head -c 10000000 /dev/zero | tr '\\0' x"]]
            ])
            let id = try #require(created["id"] as? String)
            try await server.waitForRun(id)
            let tail = try await server.client.get("/v1/runs/\(id)/tasks/big/log?offset=9999990")
            #expect(tail.header("X-Log-Size") == "10000000" && tail.body.count == 10, "\(tail)")
            let pid = try server.process.pid
            let before = try residentKiB(pid)
            let port = try server.port
            // 60 readers ask for the whole 10 MB log and never read it.
            let readers = try (0..<60).map { _ in try RawSocket(port: port) }
            for reader in readers {
                try reader.send("GET /v1/runs/\(id)/tasks/big/log HTTP/1.1\r\nHost: x\r\n\r\n")
            }
            try await Task.sleep(for: .seconds(1))
            #expect(try await server.client.get("/healthz").status == 200, "others are still served")
            let after = try residentKiB(pid)
            // Buffered copies would be 600 MB; streamed from the file they cost socket buffers.
            #expect(after - before < 100_000, "RSS grew from \(before) KiB to \(after) KiB")
            withExtendedLifetime(readers) {}
        }
    }

    func residentKiB(_ pid: pid_t) throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") })
        return Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]) ?? 0
    }
}
