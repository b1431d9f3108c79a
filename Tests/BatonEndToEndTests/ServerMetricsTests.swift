import Foundation
import Testing

/// `GET /metrics` after a known workload: the counters moved by exactly the work done.
/// (`Tests/Python/test_metrics.py` also parses it with Prometheus' own parser.)
@Suite struct ServerMetricsTests {
    @Test func countersFollowAKnownWorkload() async throws {
        try await withTestServer(ServerOptions(workers: 3)) { server in
            let ok = try await server.submit([
                "tasks": [["name": "a", "command": "true"], ["name": "b", "command": "true", "depends_on": ["a"]]]
            ])
            let bad = try await server.submit(["tasks": [["name": "x", "command": "exit 2"]]])
            try await server.waitForRun(try #require(ok["id"] as? String))
            try await server.waitForRun(try #require(bad["id"] as? String))
            _ = try await server.client.get("/v1/runs/nosuchrun")
            var samples: [String: Double] = [:]
            for _ in 0..<50 {
                samples = try await scrape(server)
                if samples["baton_runs_total{status=\"failed\",trigger=\"api\"}"] == 1
                    && samples["baton_runs_total{status=\"succeeded\",trigger=\"api\"}"] == 1
                {
                    break
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(samples["baton_runs_total{status=\"succeeded\",trigger=\"api\"}"] == 1)
            #expect(samples["baton_runs_total{status=\"failed\",trigger=\"api\"}"] == 1)
            #expect(samples["baton_runs_total{status=\"cancelled\",trigger=\"cron\"}"] == 0, "known series start at 0")
            #expect(samples["baton_tasks_total{status=\"succeeded\"}"] == 2)
            #expect(samples["baton_tasks_total{status=\"failed\"}"] == 1)
            #expect(samples["baton_task_duration_seconds_count"] == 3)
            #expect(samples["baton_task_queue_wait_seconds_count"] == 3)
            #expect(samples["baton_worker_slots"] == 3)
            #expect(samples["baton_runs_active{status=\"running\"}"] == 0)
            #expect(samples["baton_http_requests_total{route=\"/v1/runs\",code=\"2xx\"}"] == 2)
            #expect(samples["baton_http_requests_total{route=\"/v1/runs/{id}\",code=\"4xx\"}"] == 1)
            #expect((samples["process_resident_memory_bytes"] ?? 0) > 1_000_000)
            #expect((samples["process_open_fds"] ?? 0) > 3)
            #expect(
                samples.keys.allSatisfy { !$0.contains(try! #require(ok["id"] as? String)) }, "no run ids as labels")
        }
    }

    /// Every sample line as `name{labels}` → value.
    private func scrape(_ server: TestServer) async throws -> [String: Double] {
        let answer = try await server.client.get("/metrics")
        #expect(answer.status == 200)
        #expect(answer.header("Content-Type")?.hasPrefix("text/plain; version=0.0.4") == true)
        var samples: [String: Double] = [:]
        for line in String(decoding: answer.body, as: UTF8.self).split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
                Issue.record("not a sample line: \(line)")
                continue
            }
            samples[String(line[..<space])] = value
        }
        return samples
    }
}
