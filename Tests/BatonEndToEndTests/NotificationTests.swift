import Foundation
import Testing

/// `notify` (SPEC §1, README "Notifications") against a real receiving HTTP server started
/// by the test: the RunSummary POSTed when the run ends with a listed status, signed with
/// `X-Baton-Signature-256`, retried on 5xx and network errors, recorded in the Run.
@Suite(.timeLimit(.minutes(3))) struct NotificationTests {
    /// The `notifications` of a Run document.
    static func deliveries(_ run: [String: Any]) -> [[String: Any]] {
        run["notifications"] as? [[String: Any]] ?? []
    }

    /// Whether every delivery has reached a final status.
    static func settled(_ deliveries: [[String: Any]]) -> Bool {
        !deliveries.isEmpty
            && deliveries.allSatisfy { ["delivered", "failed", "skipped"].contains($0["status"] as? String ?? "") }
    }

    /// Checks one POST against what SPEC §1 promises and returns its body as JSON.
    static func expectSignedSummary(
        _ request: ReceivedRequest, secret: String?, sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> [String: Any] {
        #expect(request.method == "POST", sourceLocation: sourceLocation)
        #expect(
            request.header("Content-Type")?.hasPrefix("application/json") == true, "\(request.headers)",
            sourceLocation: sourceLocation)
        if let secret {
            let signature = request.header("X-Baton-Signature-256")
            #expect(
                signature == TestHMAC.signature(request.body, secret: secret),
                "X-Baton-Signature-256 \(signature ?? "missing") is not the HMAC of the body",
                sourceLocation: sourceLocation)
        } else {
            #expect(
                request.header("X-Baton-Signature-256") == nil, "unsigned without a secret",
                sourceLocation: sourceLocation)
        }
        guard let summary = try JSONSerialization.jsonObject(with: request.body) as? [String: Any] else {
            throw E2EError("body is not a JSON object: \(String(decoding: request.body, as: UTF8.self))")
        }
        expectRunShape(summary, withTasks: false, sourceLocation: sourceLocation)
        return summary
    }

    @Test func failedRunIsDeliveredSignedAfterA500() async throws {
        let receiver = try NotificationReceiver(answers: [500])
        defer { receiver.stop() }
        try await withTestServer { server in
            let secret = "notify-\(UUID().uuidString)"
            let url = receiver.url("/services/T000/B000?channel=ci")
            let created = try await server.submit([
                "name": "notify me",
                "notify": [["url": url, "on": ["failed"], "secret": secret]],
                "tasks": [
                    ["name": "gate", "command": waitForFileCommand("go")],
                    ["name": "boom", "command": "exit 3", "depends_on": ["gate"]],
                ],
            ])
            let id = try #require(created["id"] as? String)
            // While the run goes, the delivery is recorded as waiting; no secret shown.
            let waiting = Self.deliveries(created)
            #expect(waiting.count == 1, "\(created)")
            #expect(Set(waiting.first?.keys ?? [:].keys) == ["url", "status", "attempts", "last_error"], "\(waiting)")
            #expect(waiting.first?["status"] as? String == "waiting", "\(waiting)")
            #expect(waiting.first?["attempts"] as? Int == 0)
            #expect(waiting.first?["url"] as? String == url)
            let live = try await server.client.get("/v1/runs/\(id)")
            #expect(!live.text.contains(secret), "the notify secret is shown: \(live.text)")
            #expect(receiver.requests.isEmpty)

            try server.touch("go")
            let run = try await server.waitForNotifications(id) { $0.first?["status"] as? String == "delivered" }
            #expect(run["status"] as? String == "failed", "\(run)")
            let delivery = try #require(Self.deliveries(run).first)
            #expect(delivery["url"] as? String == url)
            #expect(delivery["attempts"] as? Int == 2, "a 500, then a 200: \(delivery)")
            #expect(delivery["last_error"] is NSNull, "\(delivery)")

            let requests = receiver.requests
            #expect(requests.count == 2, "\(requests.map(\.target))")
            for request in requests {
                #expect(request.target == "/services/T000/B000?channel=ci")
                let summary = try Self.expectSignedSummary(request, secret: secret)
                #expect(summary["id"] as? String == id)
                #expect(summary["name"] as? String == "notify me")
                #expect(summary["status"] as? String == "failed", "the final status: \(summary)")
                #expect(isRFC3339Milliseconds(summary["finished_at"]), "\(summary)")
                #expect((summary["counts"] as? [String: Int])?["failed"] == 1, "\(summary)")
                #expect((summary["counts"] as? [String: Int])?["succeeded"] == 1, "\(summary)")
                #expect((summary["trigger"] as? [String: Any])?["type"] as? String == "api")
                #expect(!String(decoding: request.body, as: UTF8.self).contains(secret))
            }
            if requests.count == 2 {
                #expect(requests[0].body == requests[1].body, "a retry sends the same bytes")
                let gap = requests[1].receivedAt - requests[0].receivedAt
                #expect(gap >= .milliseconds(500), "backoff before the retry (1 s), got \(gap)")
            }
        }
    }

    @Test func unlistedStatusIsSkippedAndNothingIsSent() async throws {
        let receiver = try NotificationReceiver()
        defer { receiver.stop() }
        try await withTestServer { server in
            let created = try await server.submit([
                "notify": [
                    ["url": receiver.url("/failed-only"), "on": ["failed"], "secret": "s"],
                    ["url": receiver.url("/default-on")],
                    ["url": receiver.url("/on-success"), "on": ["succeeded", "failed"]],
                ],
                "tasks": [["name": "fine", "command": "true"]],
            ])
            let id = try #require(created["id"] as? String)
            let run = try await server.waitForNotifications(id) { Self.settled($0) }
            #expect(run["status"] as? String == "succeeded")
            let deliveries = Self.deliveries(run)
            #expect(deliveries.map { $0["status"] as? String } == ["skipped", "skipped", "delivered"], "\(deliveries)")
            #expect(deliveries.map { $0["attempts"] as? Int } == [0, 0, 1], "\(deliveries)")
            #expect(deliveries.last?["last_error"] is NSNull)
            // Only the listed one was sent (both were settled together, when the run ended).
            let requests = receiver.requests
            #expect(requests.map(\.target) == ["/on-success"])
            if let request = requests.first {
                let summary = try Self.expectSignedSummary(request, secret: nil)
                #expect(summary["status"] as? String == "succeeded")
                #expect(summary["id"] as? String == id)
            }
        }
    }

    @Test func defaultOnCoversTimedOutAndA4xxIsFinal() async throws {
        let receiver = try NotificationReceiver()
        let rejecting = try NotificationReceiver(thereafter: 404)
        defer {
            receiver.stop()
            rejecting.stop()
        }
        try await withTestServer { server in
            let created = try await server.submit([
                "timeout_seconds": 1, "kill_grace_seconds": 0,
                "notify": [["url": receiver.url("/default")], ["url": rejecting.url("/gone")]],
                "tasks": [["name": "slow", "command": "sleep 60"]],
            ])
            let id = try #require(created["id"] as? String)
            let run = try await server.waitForNotifications(id) { Self.settled($0) }
            #expect(run["status"] as? String == "timed_out", "\(run)")
            let deliveries = Self.deliveries(run)
            #expect(deliveries.first?["status"] as? String == "delivered", "\(deliveries)")
            #expect(deliveries.first?["attempts"] as? Int == 1, "\(deliveries)")
            #expect(deliveries.last?["status"] as? String == "failed", "a 404 is final: \(deliveries)")
            #expect(deliveries.last?["attempts"] as? Int == 1, "no retry after a 4xx: \(deliveries)")
            let lastError = deliveries.last?["last_error"] as? String ?? ""
            #expect(lastError.contains("404"), "last_error names the answer: \(lastError)")
            #expect(receiver.requests.count == 1)
            #expect(rejecting.requests.count == 1)
            if let request = receiver.requests.first {
                let summary = try Self.expectSignedSummary(request, secret: nil)
                #expect(summary["status"] as? String == "timed_out")
            }
        }
    }

    /// Five attempts with 1, 2, 4, 8 s between them: about 15 s.
    @Test func unreachableReceiverIsRetriedFiveTimesThenFailedWithoutBlockingRuns() async throws {
        let refusing = try RefusingPort()
        defer { refusing.close() }
        try await withTestServer { server in
            let url = refusing.url + "/nobody-home"
            let created = try await server.submit([
                "notify": [["url": url, "on": ["failed"], "secret": "x"]],
                "tasks": [["name": "boom", "command": "exit 1"]],
            ])
            let id = try #require(created["id"] as? String)
            // The delivery is watched from a Dispatch thread: other suites' tests can hold
            // both Swift concurrency pool threads of a 2-core machine for seconds, and polls
            // made from the pool then saw only the final count (CI of 7e1266a: [5]).
            let watching = try server.client.watchDelivery(of: id, within: .seconds(90))
            let first = try await server.waitForNotifications(id) { ($0.first?["attempts"] as? Int ?? 0) >= 1 }
            #expect(first["status"] as? String == "failed", "the run ended before its notification: \(first)")
            // While the delivery waits for its retries, other runs are scheduled as usual.
            let other = try await server.submit(["tasks": [["name": "quick", "command": "true"]]])
            let otherID = try #require(other["id"] as? String)
            let done = try await server.waitForRun(otherID)
            #expect(done["status"] as? String == "succeeded")

            let seen = try await watching.value
            let run = try await server.run(id)
            #expect(run["status"] as? String == "failed")
            let delivery = try #require(Self.deliveries(run).first)
            #expect(delivery["attempts"] as? Int == 5, "five attempts in all: \(delivery)")
            #expect(delivery["last_error"] is String, "\(delivery)")
            #expect(seen.last?.status == "failed", "\(seen)")
            #expect(seen.map(\.attempts) == seen.map(\.attempts).sorted(), "attempts only grow: \(seen)")
            // 1+2+4+8 s of backoff against polls 20 ms apart: the counts are seen one by one
            // (three of them at least, on a loaded machine), pending until the fifth.
            #expect(Set(seen.map(\.attempts).filter { $0 > 0 }).count >= 3, "one by one: \(seen)")
            #expect(seen.allSatisfy { $0.attempts == 5 || $0.status == "pending" }, "\(seen)")
            let finished = try #require(parseTimestamp(run["finished_at"]))
            #expect(Date().timeIntervalSince(finished) >= 10, "1+2+4+8 s of backoff after the run ended")
        }
    }

    @Test func pendingDeliverySurvivesAServerKill() async throws {
        let receiver = try NotificationReceiver(thereafter: 503)
        defer { receiver.stop() }
        try await withTestServer { server in
            let secret = "restart-\(UUID().uuidString)"
            let created = try await server.submit([
                "notify": [["url": receiver.url("/after-restart"), "secret": secret]],
                "tasks": [["name": "boom", "command": "exit 2"]],
            ])
            let id = try #require(created["id"] as? String)
            try await server.waitForNotifications(id) {
                ($0.first?["attempts"] as? Int ?? 0) >= 1 && $0.first?["status"] as? String == "pending"
            }
            try await server.kill9()
            receiver.answerThereafter(200)
            try await server.start()
            let run = try await server.waitForNotifications(id) { Self.settled($0) }
            let delivery = try #require(Self.deliveries(run).first)
            #expect(delivery["status"] as? String == "delivered", "\(delivery)")
            let attempts = delivery["attempts"] as? Int ?? 0
            let requests = receiver.requests
            #expect(attempts >= 2 && requests.count >= attempts, "attempts before and after the kill: \(delivery)")
            for request in requests {
                let summary = try Self.expectSignedSummary(request, secret: secret)
                #expect(summary["id"] as? String == id)
            }
        }
    }

    /// A run that ends while the delivery thread is busy (here: a receiver that does not
    /// answer) has its deliveries settled only in memory; a server kill at that moment
    /// must not leave them `waiting` forever (README: "a restart loses nothing"), whether
    /// the server is killed (`kill -9`) or stopped cleanly (SIGTERM).
    @Test(arguments: ["SIGKILL", "SIGTERM"])
    func deliveryOfARunThatEndedJustBeforeTheServerStopsIsNotLost(stop: String) async throws {
        let stalled = try NotificationReceiver(holdFirst: true)
        let receiver = try NotificationReceiver()
        defer {
            stalled.stop()
            receiver.stop()
        }
        try await withTestServer { server in
            let first = try await server.submit([
                "notify": [["url": stalled.url("/stalled")]], "tasks": [["name": "boom", "command": "exit 1"]],
            ])
            let firstID = try #require(first["id"] as? String)
            // The delivery thread is now blocked on the stalled receiver.
            try await waitUntil("the stalled receiver to get its request") { !stalled.requests.isEmpty }
            let second = try await server.submit([
                "notify": [["url": receiver.url("/second")]], "tasks": [["name": "boom", "command": "exit 1"]],
            ])
            let secondID = try #require(second["id"] as? String)
            let ended = try await server.waitForRun(secondID)
            #expect(ended["status"] as? String == "failed")
            #expect(Self.deliveries(ended).first?["status"] as? String == "waiting", "not settled yet: \(ended)")

            if stop == "SIGKILL" {
                try await server.kill9()
            } else {
                let exit = try await server.terminate()
                #expect(exit.status == 0, "\(exit)")
            }
            stalled.release()
            try await server.start()
            let firstRun = try await server.waitForNotifications(firstID) { Self.settled($0) }
            #expect(Self.deliveries(firstRun).first?["status"] as? String == "delivered", "\(firstRun)")
            let run = try await server.waitForRun(secondID, within: .seconds(20)) { run in
                Self.settled(Self.deliveries(run))
            }
            #expect(Self.deliveries(run).first?["status"] as? String == "delivered", "\(run)")
            #expect(receiver.requests.map(\.target) == ["/second"])
        }
    }

    @Test func invalidNotifyEntriesAreRejectedWithTheirPath() async throws {
        try await withTestServer { server in
            let cases: [([String: Any], String)] = [
                (["url": "ftp://example.com/x"], "notify[0].url"),
                (["url": "not a url"], "notify[0].url"),
                (["on": ["failed"]], "notify[0].url"),
                (["url": "http://127.0.0.1:1/x", "on": ["exploded"]], "notify[0].on[0]"),
                (["url": "http://127.0.0.1:1/x", "secret": 42], "notify[0].secret"),
                (["url": "http://127.0.0.1:1/x", "retries": 3], "notify[0].retries"),
            ]
            for (entry, path) in cases {
                let response = try await server.client.post(
                    "/v1/runs", json: ["notify": [entry], "tasks": [["name": "t", "command": "true"]]])
                let problem = expectProblem(response, 400)
                #expect(problemPaths(problem).contains(path), "\(entry): \(problem)")
            }
        }
    }

    @Test func webhookRunOfAStoredWorkflowSignsItsNotification() async throws {
        let receiver = try NotificationReceiver()
        defer { receiver.stop() }
        try await withTestServer { server in
            let notifySecret = "notify-secret-\(UUID().uuidString)"
            let hookSecret = "hook-secret-\(UUID().uuidString)"
            let put = try await server.putWorkflow(
                "signed",
                [
                    "spec": [
                        "notify": [["url": receiver.url("/stored"), "on": ["succeeded"], "secret": notifySecret]],
                        "tasks": [["name": "t", "command": "true"]],
                    ],
                    "webhook": ["secret": hookSecret],
                ])
            #expect(put.status == 201, "\(put)")
            #expect(!put.text.contains(notifySecret), "the notify secret is echoed: \(put.text)")
            let shown = try await server.client.get("/v1/workflows/signed")
            #expect(!shown.text.contains(notifySecret), "GET shows the notify secret: \(shown.text)")

            let body = Data(#"{"hello": "world"}"#.utf8)
            let hook = try await server.hook(
                "signed", body: body, headers: ["X-Hub-Signature-256": TestHMAC.signature(body, secret: hookSecret)])
            #expect(hook.status == 202, "\(hook)")
            let id = try #require(try hook.json()["run_id"] as? String)
            let run = try await server.waitForNotifications(id) { Self.settled($0) }
            #expect(Self.deliveries(run).first?["status"] as? String == "delivered", "\(run)")
            let request = try #require(receiver.requests.first)
            let summary = try Self.expectSignedSummary(request, secret: notifySecret)
            #expect(summary["workflow"] as? String == "signed")
            #expect((summary["trigger"] as? [String: Any])?["type"] as? String == "webhook")
            #expect(!String(decoding: request.body, as: UTF8.self).contains(hookSecret))
        }
    }

    @Test func localRunDeliversBeforeExiting() async throws {
        let receiver = try NotificationReceiver(answers: [500])
        defer { receiver.stop() }
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let secret = "local-\(UUID().uuidString)"
        let (exit, output) = try await scratch.run(spec: [
            "name": "local notify",
            "notify": [
                ["url": receiver.url("/local"), "on": ["failed"], "secret": secret],
                ["url": receiver.url("/never"), "on": ["succeeded"]],
            ],
            "tasks": [["name": "boom", "command": "exit 4"]],
        ])
        #expect(exit.status == 1, "\(exit)")
        // Nothing to wait for: `baton run` has exited, so both attempts have been made.
        let requests = receiver.requests
        #expect(requests.map(\.target) == ["/local", "/local"], "\(exit)")
        for request in requests {
            let summary = try Self.expectSignedSummary(request, secret: secret)
            #expect(summary["id"] as? String == output.id)
            #expect(summary["status"] as? String == "failed")
        }
        let json = try #require(try JSONSerialization.jsonObject(with: Data(exit.stdout.utf8)) as? [String: Any])
        let deliveries = Self.deliveries(json)
        #expect(deliveries.map { $0["status"] as? String } == ["delivered", "skipped"], "\(exit.stdout)")
        #expect(deliveries.first?["attempts"] as? Int == 2, "\(deliveries)")
        #expect(deliveries.first?["last_error"] is NSNull, "\(deliveries)")
        #expect(!exit.stdout.contains(secret) && !exit.stderr.contains(secret))
    }

    @Test func localRunWithNothingToSendExitsAtOnce() async throws {
        let receiver = try NotificationReceiver()
        defer { receiver.stop() }
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let started = ContinuousClock.now
        let (exit, _) = try await scratch.run(spec: [
            "notify": [["url": receiver.url("/failures"), "on": ["failed"]]],
            "tasks": [["name": "fine", "command": "true"]],
        ])
        #expect(exit.status == 0, "\(exit)")
        #expect(receiver.requests.isEmpty)
        #expect(ContinuousClock.now - started < .seconds(20), "no wait for a skipped notification")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(exit.stdout.utf8)) as? [String: Any])
        #expect(Self.deliveries(json).map { $0["status"] as? String } == ["skipped"], "\(exit.stdout)")
    }
}
