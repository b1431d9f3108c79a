import Foundation
import Glibc
import Testing

/// Concurrency rules observed through the API, and a server that many, slow or stalled
/// clients cannot hold up.
@Suite struct ServerConcurrencyTests {
    /// Appends `start NAME` / `end NAME` around a short sleep (appends of one short line
    /// are atomic, so the file's order is the real order).
    static func markerCommand(_ file: String, sleep: String = "0.3") -> String {
        "echo \"start $BATON_TASK\" >> \"$DIR/\(file)\"; sleep \(sleep); echo \"end $BATON_TASK\" >> \"$DIR/\(file)\""
    }

    /// The most tasks between their `start` and `end` markers at any point.
    static func peak(_ lines: [String]) -> Int {
        var running = 0
        var peak = 0
        for line in lines {
            running += line.hasPrefix("start ") ? 1 : -1
            peak = max(peak, running)
        }
        return peak
    }

    @Test func maxParallelTwoNeverRunsMoreThanTwoTasks() async throws {
        // Each task, once started, waits (up to 5 s) until a second task has started too,
        // so the overlap does not depend on timing; the window may never exceed 2.
        let overlap =
            "i=0; while [ \"$(grep -c '^start' \"$DIR/events\")\" -lt 2 ] && [ $i -lt 250 ]; do sleep 0.02; i=$((i+1)); done"
        let command =
            "echo \"start $BATON_TASK\" >> \"$DIR/events\"; \(overlap); sleep 0.1; echo \"end $BATON_TASK\" >> \"$DIR/events\""
        try await withTestServer(ServerOptions(workers: 6)) { server in
            let created = try await server.submit([
                "max_parallel": 2,
                "tasks": (1...6).map { ["name": "t\($0)", "command": command] },
            ])
            let id = try #require(created["id"] as? String)
            var peakThroughAPI = 0
            let done = try await server.waitForRun(id) { run in
                peakThroughAPI = max(peakThroughAPI, (run["counts"] as? [String: Int])?["running"] ?? 0)
                return terminalRunStatuses.contains(run["status"] as? String ?? "")
            }
            #expect(done["status"] as? String == "succeeded", "\(done)")
            let lines = server.scratch.lines("events")
            #expect(lines.count == 12)
            #expect(Self.peak(lines) == 2, "markers: \(lines)")
            #expect(peakThroughAPI <= 2, "the API showed \(peakThroughAPI) running")
        }
    }

    @Test func oneWorkerSharedFairlyBetweenTwoRuns() async throws {
        try await withTestServer(ServerOptions(workers: 1)) { server in
            // The big run's tasks hold the only worker until the small run is accepted, so
            // the outcome does not depend on how fast the submission is.
            let bigCommand =
                "echo \"start $BATON_TASK\" >> \"$DIR/order\"; " + waitForFileCommand("small-accepted")
                + "; sleep 0.05; echo \"end $BATON_TASK\" >> \"$DIR/order\""
            let first = try await server.submit([
                "name": "big", "tasks": (1...10).map { ["name": "a\($0)", "command": bigCommand] },
            ])
            let firstID = try #require(first["id"] as? String)
            try await server.waitForFile("order")
            let second = try await server.submit([
                "name": "small",
                "tasks": (1...2).map { ["name": "b\($0)", "command": Self.markerCommand("order", sleep: "0.05")] },
            ])
            let secondID = try #require(second["id"] as? String)
            try server.touch("small-accepted")
            var peakRunning = 0
            let small = try await server.waitForRun(secondID) { run in
                peakRunning = max(peakRunning, (run["counts"] as? [String: Int])?["running"] ?? 0)
                return terminalRunStatuses.contains(run["status"] as? String ?? "")
            }
            #expect(small["status"] as? String == "succeeded")
            let done = try await server.waitForRun(firstID)
            #expect(done["status"] as? String == "succeeded")
            let smallEnd = try #require(parseTimestamp(small["finished_at"]))
            let bigEnd = try #require(parseTimestamp(done["finished_at"]))
            #expect(smallEnd < bigEnd)
            let lines = server.scratch.lines("order")
            #expect(lines.count == 24)
            #expect(Self.peak(lines) == 1, "one worker runs one task at a time: \(lines)")
            let lastA = try #require(lines.lastIndex { $0.hasPrefix("end a") })
            let lastB = try #require(lines.lastIndex { $0.hasPrefix("end b") })
            let startedA = lines.prefix(through: lastB).filter { $0.hasPrefix("start a") }.count
            #expect(lastB < lastA, "the small run waited for the big one: \(lines)")
            #expect(startedA <= 3, "\(startedA) tasks of the big run started before the small run ended: \(lines)")
            #expect(peakRunning <= 1)
        }
    }

    @Test func twoHundredConcurrentConnectionsAreAllAnswered() async throws {
        try await withTestServer { server in
            let port = try server.port
            let statuses = try await RawSocket.offload { () throws -> [Int] in
                // All 200 are open at once before any of them is read.
                let sockets = try (0..<200).map { _ in try RawSocket(port: port, readTimeout: .seconds(30)) }
                for socket in sockets {
                    try socket.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                }
                return try sockets.map { socket in
                    let response = try HTTPResponse.parse(try socket.readToEnd())
                    return response.text.contains("\"ok\"") ? response.status : -response.status
                }
            }
            #expect(statuses.count == 200)
            #expect(
                statuses.allSatisfy { $0 == 200 }, "\(Dictionary(grouping: statuses, by: { $0 }).mapValues(\.count))")
        }
    }

    @Test func stalledClientsDoNotBlockOthers() async throws {
        // Without the request-head deadline (which closes stalled heads after 10 s, see
        // ServerAbuseLimitTests): here the stalled clients must stay for the whole test.
        try await withTestServer(ServerOptions(extraArguments: ["--request-head-deadline", "0"])) { server in
            let port = try server.port
            // Half requests that then stall: a request line cut short, headers without their
            // end, a body shorter than its Content-Length.
            let partials = [
                "GET /heal", "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n",
                "POST /v1/runs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"ta",
            ]
            var stalled: [RawSocket] = []
            for index in 0..<30 {
                let socket = try RawSocket(port: port)
                try socket.send(partials[index % partials.count])
                stalled.append(socket)
            }
            // A stalled client holds its connection for the idle timeout (30 s); a request
            // stuck behind one would take that long, far beyond these bounds (which only
            // allow for a loaded machine).
            for _ in 0..<5 {
                let started = ContinuousClock.now
                let health = try await server.client.request("GET", "/healthz", timeout: .seconds(20))
                let elapsed = ContinuousClock.now - started
                #expect(health.status == 200)
                #expect(elapsed < .seconds(10), "GET /healthz took \(elapsed) next to stalled clients")
            }
            let started = ContinuousClock.now
            let created = try await server.submit(["tasks": [["name": "a", "command": "true"]]])
            let elapsed = ContinuousClock.now - started
            #expect(elapsed < .seconds(10), "POST /v1/runs took \(elapsed) next to stalled clients")
            let done = try await server.waitForRun(try #require(created["id"] as? String))
            #expect(done["status"] as? String == "succeeded")
            // The stalled clients are still connected (not a reason to drop them early), and
            // finishing one of them gets it its answer.
            try stalled[1].send("\r\n")
            let finished = try await RawSocket.offload { [socket = stalled[1]] in
                try HTTPResponse.parse(try socket.readToEnd())
            }
            #expect(finished.status == 200)
            stalled.removeAll()
            #expect(try await server.client.get("/healthz").status == 200)
        }
    }
}
