import Foundation
import Testing

/// `GET /v1/runs`: order, filters, limit, cursor pagination and bad query values.
@Suite struct ServerListTests {
    /// Submits runs one after the other (each `201` before the next) and returns their ids
    /// in submission order.
    private func submitRuns(_ server: TestServer, names: [String], command: String = "true") async throws -> [String] {
        var ids: [String] = []
        for name in names {
            let run = try await server.submit(["name": name, "tasks": [["name": "t", "command": command]]])
            ids.append(try #require(run["id"] as? String))
        }
        return ids
    }

    private func list(_ server: TestServer, _ query: String) async throws -> (runs: [[String: Any]], next: String?) {
        let response = try await server.client.get("/v1/runs" + query)
        guard response.status == 200 else { throw E2EError("list \(query): \(response)") }
        #expect(response.mediaType == "application/json")
        let body = try response.json()
        #expect(body.keys.contains("next_cursor"), "\(body)")
        let runs = try #require(body["runs"] as? [[String: Any]], "\(body)")
        return (runs, body["next_cursor"] as? String)
    }

    @Test func newestFirstWithStatusAndNameFiltersAndLimit() async throws {
        try await withTestServer { server in
            let alphas = try await submitRuns(server, names: ["alpha", "alpha", "alpha"])
            let betas = try await submitRuns(server, names: ["beta", "beta"], command: "exit 1")
            for id in alphas + betas { try await server.waitForRun(id) }
            let all = try await list(server, "")
            #expect(all.runs.map { $0["id"] as? String } == (alphas + betas).reversed().map { $0 })
            #expect(all.next == nil)
            for run in all.runs { expectRunShape(run, withTasks: false) }
            let created = all.runs.compactMap { parseTimestamp($0["created_at"]) }
            #expect(created == created.sorted(by: >), "newest first")

            let named = try await list(server, "?name=alpha")
            #expect(named.runs.map { $0["id"] as? String } == alphas.reversed().map { $0 })
            let failed = try await list(server, "?status=failed")
            #expect(failed.runs.map { $0["id"] as? String } == betas.reversed().map { $0 })
            #expect(failed.runs.allSatisfy { $0["status"] as? String == "failed" })
            let succeeded = try await list(server, "?status=succeeded")
            #expect(Set(succeeded.runs.compactMap { $0["id"] as? String }) == Set(alphas))
            let none = try await list(server, "?status=failed&name=alpha")
            #expect(none.runs.isEmpty)
            #expect(none.next == nil)
            let running = try await list(server, "?status=running")
            #expect(running.runs.isEmpty)
            let unknownName = try await list(server, "?name=gamma")
            #expect(unknownName.runs.isEmpty)

            let limited = try await list(server, "?limit=2")
            #expect(limited.runs.map { $0["id"] as? String } == [betas[1], betas[0]])
            #expect(limited.next != nil)
            let widest = try await list(server, "?limit=1000")
            #expect(widest.runs.count == 5)
            #expect(widest.next == nil)
        }
    }

    @Test func cursorPaginationOverThreePagesHasNoDuplicateOrGap() async throws {
        try await withTestServer { server in
            let ids = try await submitRuns(server, names: (1...7).map { "page-\($0)" })
            let expected = ids.reversed().map { $0 }
            var seen: [String] = []
            var pages: [Int] = []
            var cursor: String?
            repeat {
                let query =
                    "?limit=3"
                    + (cursor.map {
                        "&cursor=" + ($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0)
                    } ?? "")
                let page = try await list(server, query)
                pages.append(page.runs.count)
                seen += page.runs.compactMap { $0["id"] as? String }
                cursor = page.next
                if pages.count == 1 {
                    // A run submitted while paging lands at the head: it must not shift the
                    // later pages (no duplicate, no gap).
                    _ = try await submitRuns(server, names: ["late"])
                }
                if pages.count > 5 { break }
            } while cursor != nil
            #expect(pages == [3, 3, 1], "page sizes \(pages)")
            #expect(seen == expected, "seen \(seen) expected \(expected)")
            #expect(Set(seen).count == seen.count)

            // The cursor also composes with a filter.
            let first = try await list(server, "?limit=2&name=late")
            #expect(first.runs.count == 1)
            #expect(first.next == nil)
        }
    }

    @Test func badQueryValuesAnswer400WithThePath() async throws {
        let cases = [
            ("status=bogus", "status"), ("status=SUCCEEDED", "status"), ("limit=0", "limit"),
            ("limit=1001", "limit"), ("limit=x", "limit"), ("limit=-1", "limit"), ("limit=2.5", "limit"),
            ("cursor=garbage", "cursor"), ("cursor=AAAA", "cursor"), ("limit=0&status=nope", "status"),
        ]
        try await withTestServer { server in
            _ = try await submitRuns(server, names: ["one"])
            for (query, path) in cases {
                let response = try await server.client.get("/v1/runs?\(query)")
                let problem = expectProblem(response, 400)
                #expect(problemPaths(problem).contains(path), "\(query): \(problem)")
            }
            // Not even UTF-8 once decoded: still a 400 problem.
            expectProblem(try await server.client.get("/v1/runs?cursor=%FF%FE"), 400)
        }
    }
}
