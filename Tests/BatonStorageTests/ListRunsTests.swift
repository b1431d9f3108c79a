import BatonCore
import BatonStorage
import Foundation
import Testing

@Suite("The runs list and unfinished runs")
struct ListRunsTests {
    /// 30 runs r00…r29 inserted in order: names alternate nightly/deploy, every third is
    /// in workflow "wf", statuses cycle through queued, running, succeeded, failed.
    static func insertThirty(into store: any RunStore) throws -> [RunRecord] {
        let statuses: [RunStatus] = [.queued, .running, .succeeded, .failed]
        return try (0..<30).map { number in
            let run = sampleRun(
                id: String(format: "r%02d", number), name: number % 2 == 0 ? "nightly" : "deploy",
                workflow: number % 3 == 0 ? "wf" : nil, status: statuses[number % 4],
                createdAt: date(1_795_000_000 + Double(number)))
            try store.insertRun(run, tasks: [])
            return run
        }
    }

    /// Follows `nextCursor` to the end; returns the ids of every page.
    static func pages(_ store: any RunStore, _ query: RunQuery) throws -> [[String]] {
        var query = query
        var pages: [[String]] = []
        while true {
            let page = try store.listRuns(query)
            pages.append(page.runs.map(\.id))
            guard let cursor = page.nextCursor else { return pages }
            #expect(pages.count < 100, "the cursor does not advance")
            query.cursor = cursor
        }
    }

    @Test("unfiltered: newest first, three pages, no duplicate or gap")
    func threePages() throws {
        try withStore { store, _ in
            let runs = try Self.insertThirty(into: store)
            let pages = try Self.pages(store, RunQuery(limit: 12))
            #expect(pages.map(\.count) == [12, 12, 6])
            #expect(pages.flatMap { $0 } == runs.reversed().map(\.id))
            // A full first page of everything has no next page.
            let all = try store.listRuns(RunQuery(limit: 30))
            #expect(all.runs.count == 30 && all.nextCursor == nil)
            // Whole records come back, without their spec (summaries; megabytes saved).
            var summary = runs[29]
            summary.specJSON = Data()
            #expect(try store.listRuns(RunQuery(limit: 1)).runs == [summary])
        }
    }

    @Test(
        "filters page across three pages without duplicate or gap",
        arguments: [
            RunQuery(status: .running, limit: 3),
            RunQuery(name: "nightly", limit: 5),
            RunQuery(workflow: "wf", limit: 4),
            RunQuery(status: .queued, name: "nightly", limit: 2),
            RunQuery(status: .failed, name: "deploy", workflow: "wf", limit: 1),
        ])
    func filteredPages(query: RunQuery) throws {
        try withStore { store, _ in
            let runs = try Self.insertThirty(into: store)
            let expected = runs.reversed().filter { run in
                (query.status.map { run.status == $0 } ?? true) && (query.name.map { run.name == $0 } ?? true)
                    && (query.workflow.map { run.workflow == $0 } ?? true)
            }.map(\.id)
            let pages = try Self.pages(store, query)
            #expect(pages.count >= 3)
            #expect(pages.flatMap { $0 } == expected)
            #expect(pages.dropLast().allSatisfy { $0.count == query.limit })
        }
    }

    @Test("limits out of range are clamped, not trapped on")
    func limitClamped() throws {
        try withStore { store, _ in
            _ = try Self.insertThirty(into: store)
            let zero = try store.listRuns(RunQuery(limit: 0))
            #expect(zero.runs.map(\.id) == ["r29"] && zero.nextCursor != nil)
            let huge = try store.listRuns(RunQuery(limit: .max))
            #expect(huge.runs.count == 30 && huge.nextCursor == nil)
        }
    }

    @Test("a filter that matches nothing gives one empty page")
    func noMatch() throws {
        try withStore { store, _ in
            _ = try Self.insertThirty(into: store)
            #expect(try store.listRuns(RunQuery(name: "nope")) == RunPage(runs: [], nextCursor: nil))
            #expect(try store.listRuns(RunQuery(status: .timedOut)) == RunPage(runs: [], nextCursor: nil))
        }
    }

    @Test("runs inserted while paging appear on no later page")
    func insertWhilePaging() throws {
        try withStore { store, _ in
            let runs = try Self.insertThirty(into: store)
            let first = try store.listRuns(RunQuery(limit: 10))
            try store.insertRun(sampleRun(id: "late"), tasks: [])
            var rest: [String] = []
            var cursor = first.nextCursor
            while let next = cursor {
                let page = try store.listRuns(RunQuery(limit: 10, cursor: next))
                rest += page.runs.map(\.id)
                cursor = page.nextCursor
            }
            #expect(first.runs.map(\.id) + rest == runs.reversed().map(\.id))
        }
    }

    @Test(
        "an unparseable cursor is refused",
        arguments: ["", "garbage", "c2VxOg", "c2VxOjA", "c2VxOi01", "c2VxOjE=", "c2VxOjF4", "%%%", "eyJzZXEiOjF9"])
    func invalidCursor(cursor: String) throws {
        try withStore { store, _ in
            #expect(throws: RunStoreError.invalidCursor(cursor)) {
                try store.listRuns(RunQuery(cursor: cursor))
            }
        }
    }

    @Test("a cursor survives reopening the store")
    func cursorAcrossReopen() throws {
        let directory = try TemporaryDirectory()
        var store = try SQLiteRunStore(dataDirectory: directory.url)
        let runs = try Self.insertThirty(into: store)
        let cursor = try #require(try store.listRuns(RunQuery(limit: 10)).nextCursor)
        try store.close()
        store = try SQLiteRunStore(dataDirectory: directory.url)
        defer { try? store.close() }
        #expect(
            try store.listRuns(RunQuery(limit: 10, cursor: cursor)).runs.map(\.id) == runs[10..<20].reversed().map(\.id)
        )
    }

    @Test("unfinished runs are the queued and running ones, oldest first")
    func unfinished() throws {
        try withStore { store, _ in
            let runs = try Self.insertThirty(into: store)
            #expect(try store.unfinishedRuns() == runs.filter { !$0.status.isTerminal })
            // Finishing one takes it out.
            var batch = StoreBatch()
            batch.runs = [
                RunUpdate(
                    id: "r01", status: .succeeded, startedAt: baseDate, finishedAt: baseDate, cancelRequests: 0,
                    deadlineHit: false)
            ]
            try store.apply(batch)
            #expect(try store.unfinishedRuns().map(\.id).contains("r01") == false)
            #expect(try store.unfinishedRuns().first?.id == "r00")
        }
    }

    @Test("the list and unfinished runs use their indexes")
    func queryPlans() throws {
        try withSQLiteStore { store, _ in
            let plan = { (sql: String) in
                try store.fetchStringsForTesting(sql: "EXPLAIN QUERY PLAN " + sql, column: 3).joined(separator: "; ")
            }
            let select = "SELECT id, name FROM runs"
            let cases = [
                ("\(select) WHERE status = 'failed' AND seq < 5 ORDER BY seq DESC LIMIT 5", "runs_by_status"),
                ("\(select) WHERE name = 'x' ORDER BY seq DESC LIMIT 5", "runs_by_name"),
                ("\(select) WHERE workflow = 'x' ORDER BY seq DESC LIMIT 5", "runs_by_workflow"),
            ]
            for (sql, index) in cases {
                let detail = try plan(sql)
                #expect(detail.contains(index), "\(sql): \(detail)")
                #expect(!detail.contains("TEMP B-TREE"), "sorts instead of walking the index: \(sql): \(detail)")
            }
            // Unfinished runs: two ranges of the status index, then a sort of the few found.
            let unfinished = try plan("\(select) WHERE status IN ('queued', 'running') ORDER BY seq")
            #expect(unfinished.contains("runs_by_status"), "\(unfinished)")
        }
    }
}
