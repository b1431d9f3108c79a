import BatonCore
import Foundation
import Glibc
import Logging

/// The state owned by the executor thread.
///
/// `@unchecked Sendable`: it is built on the caller's thread, handed to the executor thread
/// before that thread starts, and touched by no other thread afterwards.
final class ExecutorLoop: @unchecked Sendable {
    let configuration: ExecutorConfiguration
    let store: any RunStore
    let logger: Logger
    let inbox: ExecutorInbox
    let observers: ExecutorObservers
    let stats: ExecutorStats
    /// When ``stats`` was last refreshed (at most every 50 ms: summing ready tasks visits
    /// every active run).
    var statsUpdatedAt = Date.distantPast
    let reactor: ChildReactor
    /// Every `now` the engine sees: wall-clock readings that never jump (SteadyClock).
    let clock = SteadyClock()
    var engine: Engine
    /// `<data dir>/`, joined to log paths by plain concatenation (a URL per spawn shows in
    /// profiles).
    let dataDirectoryPath: String

    /// Live processes: reactor tag → task, and task → pid for signals.
    var tagToRef: [UInt64: TaskRef] = [:]
    var pidOf: [TaskRef: Int32] = [:]
    /// Which log each live process writes, for ``ExecutorObservers/onLog`` (only kept when
    /// someone listens).
    var logOfTag: [UInt64: (runID: String, task: String, attempt: Int)] = [:]
    /// The attempts with a live process, by the marks in their environment, and the marks
    /// of each live tag: orphans of any other attempt are killed (ExecutorLoop+Orphans).
    var liveAttempts: Set<ProcessScan.Marks> = []
    /// Cluster mode: the last heartbeat of this node that the database took.
    var lastBeat: ClusterBeat?
    /// When the oldest change waiting for its commit was made (``flushOrWait()``).
    var uncommittedSince: Date?
    var marksOfTag: [UInt64: ProcessScan.Marks] = [:]
    /// The log of each live remote (ssh) process, read when ssh exits 255.
    var remoteLogOfTag: [UInt64: String] = [:]
    /// Runs another node took over (cluster mode): their tasks are killed, nothing new of
    /// them starts, their end is not announced (ExecutorLoop+Cluster).
    var abandoned: Set<String> = []
    /// Runs this node took (back) over while its old, abandoned machine of them still ends:
    /// resumed once that machine is gone.
    var deferredAdoptions: [(record: RunRecord, interruption: String)] = []
    /// Cluster mode (ExecutorLoop+Dispatch): attempts of this node's runs published to
    /// other nodes, by task (the attempt number); attempts of other nodes' runs running
    /// here, by tag and by key; those whose claim was withdrawn; whether published work may
    /// be waiting for a free slot.
    var remoteAttempts: [TaskRef: Int] = [:]
    var foreignOfTag: [UInt64: DispatchKey] = [:]
    var foreignPid: [DispatchKey: Int32] = [:]
    var revokedForeign: Set<DispatchKey> = []
    var workMayExist = false
    /// Attempts to publish, and outcomes of foreign attempts to report, at the end of the
    /// round: one statement each, whatever their number.
    var toPublish: [DispatchedAttempt] = []
    var toReport: [DispatchOutcome] = []
    /// Tasks that run a workflow and their child runs, both ways (ExecutorLoop+ChildRuns).
    var childOfTask: [TaskRef: String] = [:]
    var taskOfChild: [String: TaskRef] = [:]
    var orphansScannedAt = Date.distantPast
    /// Changes the store refused (disk full), written before any newer ones.
    var unwrittenBatch: StoreBatch?
    var unwrittenSince: Date?
    /// Run endings waiting for their final state to be committed.
    var unannouncedEndings: [RunEnding] = []
    /// Spawns waiting for the commit of their attempt (while the store refuses writes).
    var heldSpawns: [EngineAction] = []
    /// Whether the last scan found orphans (then the next one is due even when idle).
    var orphansSeen = false
    /// Scans owed to attempts that ended: one soon after the exit, one a second later
    /// (an escaped daemon may be re-parented to the server only once its task's group is
    /// gone), even when nothing else runs any more.
    var orphanScansOwed = 0
    var nextTag: UInt64 = 1
    /// Per-run environment additions (webhook payloads and the like).
    var extraEnvironment: [String: [String: String]] = [:]
    var pendingCancelReplies: [Reply<Executor.CancelResult>] = []
    /// Runs that ended in this round, announced once their final state is in the store.
    var finishedThisRound: [RunEnding] = []
    var shutdownReply: Reply<Void>?

    init(
        configuration: ExecutorConfiguration, store: any RunStore, logger: Logger,
        inbox: ExecutorInbox, observers: ExecutorObservers, stats: ExecutorStats
    ) throws {
        self.configuration = configuration
        self.store = store
        self.logger = logger
        self.inbox = inbox
        self.observers = observers
        self.stats = stats
        self.reactor = try ChildReactor()
        reactor.tracksLogProgress = observers.onLog != nil
        self.engine = Engine(workers: configuration.workers)
        let path = configuration.dataDirectory.path
        self.dataDirectoryPath = path.hasSuffix("/") ? path : path + "/"
    }

    /// The loop: drain the inbox, perform actions, persist, then sleep until the next exit,
    /// timer or message.
    func run() {
        while true {
            handleInbox(now: clock.now())
            settle()
            resumeDeferredAdoptions()
            if let reply = shutdownReply {
                stopAllForShutdown()
                reply.send(())
                return
            }
            let exits = reactor.poll(until: nextWake.map(clock.wall))
            let now = clock.now()
            if let onLog = observers.onLog { reportLogs(exits, to: onLog) }
            for exit in exits {
                if let marks = marksOfTag.removeValue(forKey: exit.tag) { liveAttempts.remove(marks) }
                if foreignExited(tag: exit.tag, exit) { continue }
                let remoteLog = remoteLogOfTag.removeValue(forKey: exit.tag)
                guard let ref = tagToRef.removeValue(forKey: exit.tag) else { continue }
                pidOf[ref] = nil
                // ssh exits 255 for its own failures: name them (`ssh: connection refused`).
                let failure = exit.exitCode == 255 ? remoteLog.flatMap(SSHFailure.reason(logPath:)) : nil
                engine.processExited(ref, exitCode: exit.exitCode, signal: exit.signal, now: now, failure: failure)
            }
            engine.tick(now: now)
            if !exits.isEmpty {
                // Ends first: their owners wait for them to start what comes next, while
                // a claim (and the spawns it brings) can take a while.
                reportEnded()
                claimIfFree()
            }
            reapOrphansIfDue(now: now, hadExits: !exits.isEmpty)
        }
    }

    /// The engine's next timer, or sooner the next orphan scan while tasks (and so
    /// possible orphans) exist; an idle server sleeps until a message.
    var nextWake: Date? {
        var wake = engine.nextWake
        if let since = uncommittedSince {
            let commit = since.addingTimeInterval(configuration.commitWindow)
            wake = wake.map { min($0, commit) } ?? commit
        }
        if unwrittenBatch != nil {
            let retry = clock.now().addingTimeInterval(Self.retryInterval)
            wake = wake.map { min($0, retry) } ?? retry
        }
        guard !reactor.children.isEmpty || orphansSeen || orphanScansOwed > 0 else { return wake }
        let soon = orphanScansOwed == Self.orphanScansAfterExits
        let scan = orphansScannedAt.addingTimeInterval(soon ? Self.orphanScanAfterExits : Self.orphanScanInterval)
        return wake.map { min($0, scan) } ?? scan
    }

    func handleInbox(now: Date) {
        for message in inbox.drain() {
            switch message {
            case .submit(let record, let spec, let tasks, let extra):
                if !extra.isEmpty { extraEnvironment[record.id] = extra }
                logger.info("run started", metadata: ["run": "\(record.id)", "name": "\(record.name)"])
                engine.add(RunMachine(record: record, spec: spec, tasks: tasks, now: now), now: now)
            case .cancel(let runID, let reply):
                if let machine = engine.runs[runID] {
                    if machine.isFinished {
                        reply.send(.alreadyEnded)
                    } else {
                        engine.cancel(runID: runID, now: now)
                        logger.info("run cancel requested", metadata: ["run": "\(runID)"])
                        pendingCancelReplies.append(reply)
                    }
                } else {
                    let known = (try? store.run(id: runID)) ?? nil
                    reply.send(known == nil ? .notFound : .alreadyEnded)
                }
            case .shutdown(let reply):
                shutdownReply = reply
            case .adopt(let runs, let interruption):
                adopt(runs, interruption: interruption, now: now)
            case .abandon(let runIDs):
                abandon(runIDs, now: now)
            case .clusterNews(let news, let beat):
                clusterNews(news, beat: beat)
            }
        }
    }

    /// Performs actions until none are left (a failed spawn feeds back into the engine),
    /// then writes one batch.
    func settle() {
        var actions = heldSpawns + engine.takeActions()
        heldSpawns.removeAll()
        while !actions.isEmpty {
            // The store learns that attempts are starting BEFORE their processes exist: a
            // crash between the two then restarts them as interrupted, never runs a
            // `restartable: false` attempt a second time as if it were fresh. While the
            // store refuses writes (disk full), spawns wait for the commit. Attempts that
            // may run again anyway start first and are committed right after (see
            // ``spawnsMayPrecedeTheirCommit(_:)``).
            let spawnsFirst = spawnsMayPrecedeTheirCommit(actions)
            if actions.contains(where: \.isSpawn) && !spawnsFirst { flush() }
            for action in actions {
                if action.isSpawn && unwrittenBatch != nil {
                    heldSpawns.append(action)
                } else {
                    perform(action)
                }
            }
            // What goes to other nodes is published only once its attempt is committed:
            // here in the same statement (spawns came first), else after the commit above.
            if spawnsFirst && !toPublish.isEmpty { flush(publishingQueued: true) }
            publishQueued()
            actions = engine.takeActions()
        }
        for runID in engine.stalledChangedRuns {
            logger.critical(
                "scheduler stalled: nothing running, nothing ready, run not finished; ending it",
                metadata: ["run": "\(runID)"])
            engine.abortStalled(runID: runID, now: clock.now())
            for action in engine.takeActions() { perform(action) }
        }
        flushOrWait()
        unannouncedEndings += finishedThisRound
        finishedThisRound.removeAll()
        for reply in pendingCancelReplies { reply.send(.accepted) }
        pendingCancelReplies.removeAll()
        // A run leaves the engine (and is announced: notifications, cron) only once its
        // final state is in the store; until then a failed batch is retried.
        if unwrittenBatch == nil {
            for ending in unannouncedEndings { observers.onRunFinished?(ending) }
            unannouncedEndings.removeAll()
            engine.removeFinishedRuns()
            if !abandoned.isEmpty { abandoned = abandoned.filter { engine.runs[$0] != nil } }
        }
        let now = clock.now()
        if engine.runs.isEmpty {
            stats.update(busy: engine.busy, ready: 0, local: localProcessCount)
        } else if now.timeIntervalSince(statsUpdatedAt) >= 0.05 {
            statsUpdatedAt = now
            stats.update(busy: engine.busy, ready: engine.readyTaskCount, local: localProcessCount)
        }
    }

    /// Whether this round's spawns may start before the commit that records them, which
    /// then follows at once: takes the commit off the path from one task's exit to the next
    /// one's start (a tenth of it on a chain of short tasks). Only when a crash in between
    /// costs nothing a crash just before the spawn would not: every attempt is a local
    /// process of a `restartable` task (after a restart the store says it never started, so
    /// it starts again, and its leftover processes die by their marks); not a
    /// `restartable: false` one, not an ssh command (its remote side would live on), not
    /// a child run, not an `on_timeout` hook; not while the store refuses writes; and in
    /// cluster mode only while this node's lease holds (``ClusterBeat/holds(at:)``): no
    /// other node can have taken its runs then, while a node frozen past its lease must
    /// find out from the commit before it starts anything.
    func spawnsMayPrecedeTheirCommit(_ actions: [EngineAction]) -> Bool {
        let runsAreOurs = configuration.dispatch == nil || lastBeat?.holds(at: .now) == true
        return Self.spawnsMayPrecedeTheirCommit(actions, storeFailing: unwrittenBatch != nil, runsAreOurs: runsAreOurs)
    }

    static func spawnsMayPrecedeTheirCommit(_ actions: [EngineAction], storeFailing: Bool, runsAreOurs: Bool) -> Bool {
        guard !storeFailing, runsAreOurs else { return false }
        return actions.allSatisfy { action in
            guard case .spawn(let plan) = action else { return true }
            return plan.restartable && plan.ssh == nil && plan.subWorkflow == nil && !plan.isTimeoutHook
        }
    }

    /// Tells the log listener which logs grew and which attempts' logs are complete.
    func reportLogs(_ exits: [ChildExit], to onLog: @Sendable (LogProgress) -> Void) {
        for (tag, bytes) in reactor.takeLogProgress() {
            guard let log = logOfTag[tag] else { continue }
            onLog(LogProgress(runID: log.runID, task: log.task, attempt: log.attempt, bytes: bytes, complete: false))
        }
        for exit in exits {
            guard let log = logOfTag.removeValue(forKey: exit.tag) else { continue }
            onLog(
                LogProgress(
                    runID: log.runID, task: log.task, attempt: log.attempt, bytes: exit.logBytes, complete: true))
        }
    }

    func perform(_ action: EngineAction) {
        switch action {
        case .spawn(let plan):
            spawn(plan)
        case .signal(let ref, let signal):
            if let attempt = remoteAttempts[ref] {
                signalRemote(ref, attempt: attempt, signal)
                return
            }
            if stopChildRun(of: ref) { return }
            guard let pid = pidOf[ref] else { return }
            reactor.signalGroup(pid: pid, signal == .terminate ? SIGTERM : SIGKILL)
        case .runFinished(let runID, let status):
            extraEnvironment[runID] = nil
            logger.info("run finished", metadata: ["run": "\(runID)", "status": "\(status.rawValue)"])
            if abandoned.contains(runID) { return }
            let notifies = !(engine.runs[runID]?.spec.notify.isEmpty ?? true)
            finishedThisRound.append(RunEnding(runID: runID, status: status, hasNotifications: notifies))
            childRunFinished(runID, status: status)
        }
    }

    func spawn(_ plan: SpawnPlan) {
        if abandoned.contains(plan.ref.runID) {
            engine.spawnFailed(plan.ref, message: "the run was taken over by another node", now: clock.now())
            return
        }
        if !plan.runsOn.isEmpty && !plan.isTimeoutHook && !labelsMatch(plan) {
            placeElsewhere(plan)
            return
        }
        if shouldDispatch(plan) {
            queueForDispatch(plan)
            return
        }
        if let sub = plan.subWorkflow {
            startChildRun(plan, sub)
            return
        }
        let planEnvironment = SpawnPlanEnvironment(
            runID: plan.ref.runID, taskName: plan.taskName, attempt: plan.attempt,
            env: plan.env, extra: extraEnvironment[plan.ref.runID] ?? [:])
        let environment = TaskEnvironment.compose(base: configuration.baseEnvironment, plan: planEnvironment)
        let tag = nextTag
        nextTag += 1
        var request = SpawnRequest(
            tag: tag, argv: plan.command.argv, environment: environment,
            workingDirectory: plan.cwd,
            logPath: dataDirectoryPath + plan.logPath,
            logCapBytes: configuration.logCapBytes)
        if let target = plan.ssh {
            // The local process is ssh; the task's own environment (not the server's) and
            // its cwd go to the remote host (SSHCommand).
            let marker = SSHCommand.freshMarker()
            let input = SSHCommand.input(
                command: plan.command,
                environment: TaskEnvironment.compose(base: [:], plan: planEnvironment),
                cwd: plan.cwd, killGraceSeconds: plan.killGraceSeconds, marker: marker)
            request.argv = SSHCommand.argv(target, marker: marker)
            request.workingDirectory = nil
            request.input = input.bytes
            remoteLogOfTag[tag] = request.logPath
            for name in input.skipped {
                appendToLog(plan.logPath, "baton: env \(name) is not a shell name; not passed to \(target.host)\n")
            }
        }
        do {
            let pid = try reactor.spawn(request)
            tagToRef[tag] = plan.ref
            pidOf[plan.ref] = pid
            let marks = ProcessScan.Marks(runID: plan.ref.runID, task: plan.taskName, attempt: plan.attempt)
            marksOfTag[tag] = marks
            liveAttempts.insert(marks)
            if observers.onLog != nil {
                logOfTag[tag] = (plan.ref.runID, plan.taskName, plan.attempt)
            }
            engine.processStarted(plan.ref, pid: pid)
        } catch {
            remoteLogOfTag[tag] = nil
            let message = "\(error)"
            appendToLog(plan.logPath, "baton: \(message)\n")
            engine.spawnFailed(plan.ref, message: message, now: clock.now())
        }
    }

    /// Commits this round's changes, or lets them wait up to the configuration's
    /// `commitWindow` when nothing needs them in the store yet: while short tasks end and
    /// start every fraction of a millisecond, one commit then carries several rounds (a
    /// PostgreSQL round trip per round was a third of a 10,000-task run). Nothing waits that
    /// must be in the store first: attempts that must not run twice are committed before
    /// their spawn (in ``settle()``), ended runs before they are announced, cancels before
    /// they are answered, and everything at shutdown or while the store fails.
    func flushOrWait() {
        let mayWait =
            configuration.commitWindow > 0 && engine.hasChanges && unwrittenBatch == nil && finishedThisRound.isEmpty
            && pendingCancelReplies.isEmpty && heldSpawns.isEmpty && shutdownReply == nil
        guard mayWait else {
            flush()
            return
        }
        let now = clock.now()
        let since = uncommittedSince ?? now
        uncommittedSince = since
        if now.timeIntervalSince(since) >= configuration.commitWindow { flush() }
    }

    /// Writes the engine's changes, after any batch that failed before (a full disk): a
    /// failed batch is kept and retried first, on every round and at least every
    /// ``retryInterval``, so nothing the engine decided is lost while the disk is full.
    ///
    /// `publishingQueued`: the attempts queued for other nodes are published by the same
    /// statement (cluster mode), one round trip fewer before they start elsewhere.
    func flush(publishingQueued: Bool = false) {
        uncommittedSince = nil
        var publishing: [DispatchedAttempt] = []
        if publishingQueued, configuration.dispatch != nil {
            publishing = toPublish
            toPublish.removeAll()
        }
        var batch = unwrittenBatch ?? StoreBatch()
        let fresh = engine.drainChanges()
        batch.runs += fresh.runs
        batch.tasks += fresh.tasks
        batch.attempts += fresh.attempts
        if !abandoned.isEmpty {
            // A run another node took over is never written from here again, even if this
            // node takes it back before its old machine has ended (the fence would then
            // let that machine's writes through).
            batch.runs.removeAll { abandoned.contains($0.id) }
            batch.tasks.removeAll { abandoned.contains($0.runID) }
            batch.attempts.removeAll { abandoned.contains($0.runID) }
        }
        guard !batch.isEmpty || !publishing.isEmpty else { return }
        // Stored and announced times are wall-clock ones, even after the clock was stepped
        // (a failed batch is kept on the engine's clock and moved again when retried).
        let stored = clock.wallTimes(batch)
        var published: Set<DispatchKey> = []
        do {
            if let dispatch = configuration.dispatch, !publishing.isEmpty {
                published = try dispatch.apply(stored, publishing: publishing)
            } else {
                try store.apply(stored)
            }
        } catch {
            if unwrittenBatch == nil {
                logger.error("could not record run changes; retrying", metadata: ["error": "\(error)"])
            }
            unwrittenBatch = batch
            unwrittenSince = unwrittenSince ?? clock.now()
            settlePublished(publishing, published: [], problem: "\(error)")
            return
        }
        if let since = unwrittenSince {
            logger.notice(
                "recorded the run changes that had failed",
                metadata: ["after_seconds": "\(String(format: "%.1f", clock.now().timeIntervalSince(since)))"])
        }
        unwrittenBatch = nil
        unwrittenSince = nil
        // Cluster mode: runs another node took over were not written; their spawns of
        // this round must not happen (they are failed as the run's abandon says).
        if let fenced = configuration.dispatch?.takeFencedRuns(), !fenced.isEmpty {
            abandon(fenced, now: clock.now())
        }
        settlePublished(publishing, published: published, problem: "the run is owned by another node now")
        observers.onBatch?(stored)
    }

    /// How often a failed batch is retried while nothing else happens.
    static let retryInterval: TimeInterval = 1

    func appendToLog(_ relativePath: String, _ text: String) {
        let url = configuration.dataDirectory.appendingPathComponent(relativePath)
        try? FileManager.default.createDirectory(
            at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let fd = open(url.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        defer { close(fd) }
        _ = text.utf8CString.withUnsafeBufferPointer { buffer in
            write(fd, buffer.baseAddress, buffer.count - 1)
        }
    }
}
