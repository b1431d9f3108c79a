import Foundation
import Glibc
import Testing

/// Cron repetition by the real server (SPEC §4): fires on whole seconds within a second of
/// their time, never twice for one instant (also across a restart), `missed` after a
/// downtime, `overlap` while a run is active, `next_runs` in a zone with DST.
@Suite(.serialized, .timeLimit(.minutes(3))) struct WorkflowCronTests {
    @Test func everySecondFiresOnWholeSecondsWithinASecond() async throws {
        try await withTestServer { server in
            try await server.storeWorkflow(
                "tick", ["spec": oneTaskSpec("true"), "schedule": ["cron": "* * * * * *", "overlap": "allow"]])
            let instants = try await server.waitForCronRuns("tick", count: 4)
            try await server.client.post("/v1/workflows/tick/pause")
            #expect(instants.allSatisfy(isWholeSecond), "\(instants)")
            #expect(Set(instants).count == instants.count, "no instant twice: \(instants)")
            for (earlier, later) in zip(instants, instants.dropFirst()) {
                #expect(later.timeIntervalSince(earlier) == 1, "consecutive seconds: \(instants)")
            }
            for run in try await server.workflowRuns("tick") {
                let trigger = try #require(run["trigger"] as? [String: Any])
                #expect(trigger["type"] as? String == "cron")
                #expect(run["workflow"] as? String == "tick")
                let lag = try #require(parseTimestamp(run["created_at"])).timeIntervalSince(
                    try #require(parseTimestamp(trigger["scheduled_at"])))
                #expect(lag >= 0 && lag < 1, "fired \(lag) s after its time: \(run)")
            }
            let workflow = try await server.workflow("tick")
            #expect(workflow["state"] as? String == "paused")
            let lastFire = try #require(parseTimestamp(workflow["last_fire_at"]))
            #expect(lastFire >= instants.last!)
            #expect(workflow["last_run"] is [String: Any])
        }
    }

    @Test func aRestartNeverFiresAnInstantTwice() async throws {
        try await withTestServer { server in
            try await server.storeWorkflow(
                "steady", ["spec": oneTaskSpec("true"), "schedule": ["cron": "@every 1s", "overlap": "allow"]])
            let before = try await server.waitForCronRuns("steady", count: 3)
            let exit = try await server.terminate()
            #expect(exit.status == 0, "\(exit)")
            try await server.start()
            let all = try await server.waitForCronRuns("steady", count: before.count + 3)
            #expect(Set(all).count == all.count, "an instant fired twice: \(all)")
            #expect(all.allSatisfy(isWholeSecond))
            let after = all.filter { $0 > before.last! }
            #expect(after.count >= 3, "fires carry on after the restart: \(all)")
            // A second restart straight away, then a look at everything again.
            _ = try await server.terminate()
            try await server.start()
            let final = try await server.waitForCronRuns("steady", count: all.count + 2)
            #expect(Set(final).count == final.count, "an instant fired twice: \(final)")
        }
    }

    @Test func missedInstantsAfterADowntimeRunOnceOrAreSkipped() async throws {
        try await withTestServer { server in
            // Every 5 s. Stop just after a fire (I0), stay down past the next instant (I1)
            // by 2 s, so that it is missed, and look after the one after (I2).
            for (name, missed) in [("catchup", "run_once"), ("forget", "skip")] {
                try await server.storeWorkflow(
                    name, ["spec": oneTaskSpec("true"), "schedule": ["cron": "*/5 * * * * *", "missed": missed]])
            }
            let first = try await server.waitForCronRuns("catchup", count: 1, within: .seconds(15))
            try await server.waitForCronRuns("forget", count: 1, within: .seconds(5))
            let i0 = try #require(first.first)
            _ = try await server.terminate()
            let i1 = i0.addingTimeInterval(5)
            let i2 = i0.addingTimeInterval(10)
            try await Task.sleep(for: .seconds(max(0, i1.timeIntervalSinceNow + 2)))
            try await server.start()
            _ = try await server.waitForCronRuns("forget", count: 2, within: .seconds(15))
            let catchup = try await server.waitForCronRuns("catchup", count: 3, within: .seconds(15))
            let forget = try await server.cronInstants("forget")
            #expect(catchup.prefix(3) == [i0, i1, i2], "run_once ran the missed instant: \(catchup)")
            #expect(forget.prefix(2) == [i0, i2], "skip did not run it: \(forget)")
            #expect(parseTimestamp(try await server.workflow("forget")["last_fire_at"]).map { $0 >= i2 } == true)
        }
    }

    @Test func overlapSkipNeverRunsTwoAtOnce() async throws {
        try await withTestServer { server in
            try await server.storeWorkflow(
                "slow", ["spec": oneTaskSpec("sleep 1.6"), "schedule": ["cron": "* * * * * *", "overlap": "skip"]])
            try await server.waitForCronRuns("slow", count: 3, within: .seconds(20))
            try await server.client.post("/v1/workflows/slow/pause")
            var runs: [[String: Any]] = []
            for summary in try await server.workflowRuns("slow") {
                runs.append(try await server.waitForRun(try #require(summary["id"] as? String)))
            }
            let spans = runs.compactMap { run -> (Date, Date)? in
                guard let start = parseTimestamp(run["started_at"]), let end = parseTimestamp(run["finished_at"]) else {
                    return nil
                }
                return (start, end)
            }.sorted { $0.0 < $1.0 }
            #expect(spans.count == runs.count)
            for (earlier, later) in zip(spans, spans.dropFirst()) {
                #expect(later.0 >= earlier.1, "runs overlapped: \(spans)")
            }
            let instants = try await server.cronInstants("slow")
            let gaps = zip(instants, instants.dropFirst()).map { $1.timeIntervalSince($0) }
            #expect(gaps.allSatisfy { $0 >= 2 }, "fires during a run were skipped: \(instants)")
        }
    }

    @Test func overlapQueueStartsOneWaitingFireWhenTheRunEnds() async throws {
        try await withTestServer { server in
            // Each run takes 1.3 s and an instant comes every second: the next instant waits
            // (one at most) and starts as soon as the running one ends, late by design.
            try await server.storeWorkflow(
                "queued", ["spec": oneTaskSpec("sleep 1.3"), "schedule": ["cron": "* * * * * *", "overlap": "queue"]])
            try await server.waitForCronRuns("queued", count: 4, within: .seconds(20))
            try await server.client.post("/v1/workflows/queued/pause")
            var runs: [[String: Any]] = []
            for summary in try await server.workflowRuns("queued").reversed() {
                runs.append(try await server.waitForRun(try #require(summary["id"] as? String)))
            }
            var waited = 0
            for (earlier, later) in zip(runs, runs.dropFirst()) {
                let finished = try #require(parseTimestamp(earlier["finished_at"]))
                let started = try #require(parseTimestamp(later["started_at"]))
                #expect(started >= finished, "runs overlapped: \(earlier) \(later)")
                let trigger = try #require(later["trigger"] as? [String: Any])
                let scheduled = try #require(parseTimestamp(trigger["scheduled_at"]))
                let created = try #require(parseTimestamp(later["created_at"]))
                if created.timeIntervalSince(scheduled) > 0.15 {
                    waited += 1
                    #expect(
                        created.timeIntervalSince(finished) < 0.5, "a waiting fire starts when the run ends: \(later)")
                }
            }
            #expect(waited >= 2, "fires waited for the running one: \(runs)")
        }
    }

    @Test func overlapReplaceCancelsTheRunningOne() async throws {
        try await withTestServer { server in
            try await server.storeWorkflow(
                "fresh",
                [
                    "spec": ["kill_grace_seconds": 1, "tasks": [["name": "t", "command": "sleep 30"]]],
                    "schedule": ["cron": "*/2 * * * * *", "overlap": "replace"],
                ])
            try await server.waitForCronRuns("fresh", count: 2, within: .seconds(20))
            try await server.client.post("/v1/workflows/fresh/pause")
            let runs = try await server.workflowRuns("fresh")
            let oldest = try #require(runs.last?["id"] as? String)
            let replaced = try await server.waitForRun(oldest)
            #expect(replaced["status"] as? String == "cancelled", "\(replaced)")
            let newest = try #require(runs.first?["id"] as? String)
            try await server.client.post("/v1/runs/\(newest)/cancel")
        }
    }

    @Test func nextRunsInAZoneWithDaylightSavingTime() async throws {
        try await withTestServer { server in
            // 02:30 on March 25-31 in Paris: on the last Sunday of March that time does not
            // exist (clocks jump from 02:00 to 03:00), before it the offset is +01:00, after it +02:00.
            let workflow = try await server.storeWorkflow(
                "dst",
                ["spec": oneTaskSpec("true"), "schedule": ["cron": "30 2 25-31 3 *", "timezone": "Europe/Paris"]])
            let nextRuns = try #require(workflow["next_runs"] as? [String])
            #expect(nextRuns.count == 5, "\(nextRuns)")
            let pattern = try Regex(#"(\d{4})-03-(\d{2})T02:30:00([+-]\d{2}:\d{2})"#)
            var previous: Date?
            for text in nextRuns {
                let match = try #require(try pattern.wholeMatch(in: text), "\(text)")
                let year = try #require(Int(match.output[1].substring ?? ""))
                let day = try #require(Int(match.output[2].substring ?? ""))
                let offset = String(match.output[3].substring ?? "")
                let switchDay = lastSundayOfMarch(year)
                #expect(day != switchDay, "02:30 does not exist on \(year)-03-\(switchDay): \(nextRuns)")
                #expect(offset == (day < switchDay ? "+01:00" : "+02:00"), "\(text)")
                let instant = try #require(zonedDate(text))
                if let previous { #expect(instant > previous) }
                previous = instant
            }
            #expect(parseTimestamp(workflow["next_fire_at"]) == zonedDate(nextRuns.first))
        }
    }
}

/// The day of the last Sunday of March of `year` (when Europe switches to summer time).
func lastSundayOfMarch(_ year: Int) -> Int {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "UTC")!
    let march31 = calendar.date(from: DateComponents(year: year, month: 3, day: 31))!
    let weekday = calendar.component(.weekday, from: march31)  // 1 = Sunday
    return 31 - (weekday - 1)
}
