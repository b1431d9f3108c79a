import BatonAPI
import BatonCore
import BatonHTTP
import BatonRunner
import BatonStorage
import Foundation
import Logging

/// Starts the long-lived parts in order (store, executor, HTTP) and stops them in reverse
/// on SIGTERM/SIGINT: stop accepting, stop and record tasks, close the database.
struct Server {
    let command: ServeCommand
    let logger: Logger

    func run() throws {
        // First: a SIGTERM during start-up must stop the server once it is up, not be lost.
        let stopRequested = DispatchSemaphore(value: 0)
        let trap = SignalTrap { _ in stopRequested.signal() }
        let address = try ListenAddress(command.listen)
        let token = try loadToken()
        if !ProcessHardening.protectSecrets(Array(TaskEnvironment.secretNames)) {
            logger.warning("cannot make the server non-dumpable; tasks may read its /proc files")
        }
        if token == nil && !address.isLoopback && !command.insecureNoAuth {
            throw ServeError.setup(
                "refusing to listen on \(address.host) without a token: set BATON_TOKEN or --token-file (or pass --insecure-no-auth)"
            )
        }
        let directory = URL(fileURLWithPath: command.dataDir)
        let lock: DataDirectoryLock
        do {
            lock = try DataDirectoryLock(directory: directory)
        } catch {
            throw ServeError.setup("\(error)")
        }
        defer { withExtendedLifetime(lock) {} }
        let opened = try openStore(directory: directory)
        let store = opened.store
        // Cluster mode: the same store is also the cluster's membership and dispatch port.
        let cluster = store as? PostgresRunStore
        let labels = try command.nodeLabels()
        let runFinished = RunFinishedListeners()
        let revisions = RunRevisions()
        let metrics = BatonMetrics(version: BatonVersion.current)
        let sharedEvents = cluster.map { ClusterEvents(relay: $0, logger: logger) }
        let live = LiveEvents(
            hub: EventHub(maxStreams: command.maxEventStreams, onFirstListener: sharedEvents?.firstListenerArrived),
            metrics: metrics, store: store, logger: logger)
        live.relay = sharedEvents?.published
        sharedEvents?.start()
        defer { sharedEvents?.stop() }
        live.start()
        defer { live.stop() }
        let executor = Executor(
            configuration: ExecutorConfiguration(
                dataDirectory: directory, decodeSpec: { try SpecParser.parse($0, format: .json, maxTasks: Int.max) },
                workers: command.workers, dispatch: cluster, nodeName: cluster?.nodeID ?? "local", labels: labels,
                // A PostgreSQL commit is a round trip: rounds of the next 2 ms share it.
                commitWindow: cluster != nil ? 0.002 : 0),
            store: store, logger: logger,
            onBatch: { batch in
                revisions.bump(Set(batch.runs.map(\.id) + batch.tasks.map(\.runID)))
                live.batchCommitted(batch)
            },
            onRunFinished: { runFinished.notify($0) },
            onLog: { live.logProgressed($0) },
            onRunCreated: { record, spec, tasks in live.runCreated(record, taskCount: spec.tasks.count, tasks: tasks) })
        let stats = executor.stats
        metrics.readPool(workers: { stats.workers }, busy: { stats.busySlots }, ready: { stats.readyTasks })
        if cluster != nil { metrics.readDatabase(roundTrips: { PostgresRunStore.roundTrips }) }
        let observed = ObservedRunControl(executor) { record, spec, tasks in
            live.runCreated(record, taskCount: spec.tasks.count, tasks: tasks)
        }
        let control: any RunControl = cluster.map { ClusterRunControl(local: observed, store: $0) } ?? observed
        let notifier = Notifier(
            store: store, logger: logger,
            onChange: { runID in
                revisions.bump([runID])
                var data = JSONText()
                data.add("run", runID)
                live.publish(.notificationUpdated, runID: runID, data: data.string)
            },
            onResult: { metrics.notificationEnded(delivered: $0) })
        notifier.start()
        runFinished.add { ending in
            if ending.hasNotifications { notifier.runFinished(runID: ending.runID, status: ending.status) }
        }
        do {
            try executor.start()
        } catch {
            throw ServeError.setup("cannot start the executor: \(error)")
        }
        let cronLateAfter =
            cluster == nil
            ? CronPlanner.defaultLateAfter : max(CronPlanner.defaultLateAfter, 2 * command.nodeLeaseSeconds)
        let cron = CronSwitch {
            CronTicker(
                store: store, control: control, logger: logger, lateAfter: cronLateAfter,
                onFire: { workflow, outcome, lag in
                    metrics.cronHandled(outcome, lagSeconds: lag)
                    var data = JSONText()
                    data.add("name", workflow)
                    data.add("change", "fired")
                    live.publish(.workflowUpdated, data: data.string)
                })
        }
        runFinished.add { cron.runFinished(runID: $0.runID, status: $0.status) }
        var coordinator: ClusterCoordinator?
        if let cluster, let nodeID = cluster.nodeID {
            // Cluster mode: the cron ticker runs on the holder of the cron lease only.
            let membership = ClusterCoordinator(
                store: cluster,
                node: ClusterNode(
                    id: nodeID, hostname: ProcessInfo.processInfo.hostName, labels: labels, slots: command.workers,
                    version: BatonVersion.current),
                executor: executor, logger: logger,
                timing: ClusterCoordinator.Timing(leaseSeconds: command.nodeLeaseSeconds),
                onCronLeadership: { cron.lead($0) }, onWorkflowsChanged: { cron.workflowsChanged() },
                events: sharedEvents?.sharing(live: live))
            do {
                try membership.start()
            } catch {
                executor.shutdown()
                throw ServeError.setup("cannot join the cluster: \(error)")
            }
            coordinator = membership
        } else {
            cron.lead(true)
        }
        var context = APIContext(
            store: store, control: control, dataDirectory: directory, maxTasks: command.maxTasks, token: token,
            revisions: revisions)
        context.workflowsChanged = {
            cron.workflowsChanged()
            try? cluster?.announceWorkflowsChanged()
        }
        context.live = live
        context.cachesRunDocuments = cluster == nil
        context.longPollRecheck = cluster == nil ? nil : .seconds(1)
        if let cluster {
            let lease = command.nodeLeaseSeconds
            context.nodes = { try cluster.nodes(leaseSeconds: lease) }
            context.remoteLogs = { try cluster.remoteNodeURL(runID: $0, taskIndex: $1, attempt: $2) }
        } else {
            let started = Date()
            let workers = command.workers
            context.nodes = {
                [
                    ClusterNode(
                        id: "local", hostname: ProcessInfo.processInfo.hostName, labels: labels, slots: workers,
                        busySlots: stats.busySlots, version: BatonVersion.current, startedAt: started,
                        heartbeatAt: Date())
                ]
            }
        }
        context.metricsPublic = command.metricsPublic
        context.console = !command.noUI
        context.maxHookBodyBytes = min(command.maxHookBodyBytes, command.maxBodyBytes)
        let server = HTTPServer(
            configuration: HTTPServerConfiguration(
                host: address.host, port: address.port, maxBodyBytes: command.maxBodyBytes,
                perIPConnectionLimit: command.maxConnectionsPerIP, maxBufferedBytes: command.maxBufferedBytes,
                requestHeadDeadlineSeconds: command.requestHeadDeadline),
            logger: logger, preflight: APIRoutes.preflight(context),
            onRequest: { metrics.requestCompleted(route: $0.route, status: $0.status, seconds: $0.durationSeconds) },
            bodyLimit: APIRoutes.bodyLimit(context),
            handler: APIRoutes.handler(context))
        let bound: (host: String, port: Int)
        do {
            bound = try server.start()
        } catch {
            cron.lead(false)
            coordinator?.stopListening()
            executor.shutdown()
            coordinator?.leave()
            throw ServeError.setup("cannot listen on \(command.listen): \(error)")
        }
        let shown = bound.host.contains(":") ? "[\(bound.host)]" : bound.host
        if let cluster {
            // Where the other nodes fetch the logs of the attempts this node runs.
            let host = ["0.0.0.0", "::"].contains(bound.host) ? ProcessInfo.processInfo.hostName : shown
            let url = command.advertiseURL ?? "http://\(host):\(bound.port)"
            do {
                try cluster.setNodeURL(url)
            } catch {
                logger.error("could not record this node's address", metadata: ["error": "\(error)"])
            }
        }
        Console.out("baton: listening on http://\(shown):\(bound.port)")
        logger.info(
            "serving",
            metadata: [
                "listen": "\(shown):\(bound.port)", "data_dir": "\(directory.path)", "store": "\(opened.description)",
                "workers": "\(command.workers)", "auth": "\(token == nil ? "none" : "bearer")",
            ])

        stopRequested.wait()
        logger.info("shutting down", metadata: ["signal": "\(trap.first ?? 0)"])
        server.stop()
        cron.lead(false)
        coordinator?.stopListening()
        executor.shutdown()
        // After the executor recorded its tasks as interrupted: the other nodes take over.
        coordinator?.leave()
        notifier.stop()
        sharedEvents?.stop()
        opened.close()
        logger.info("stopped")
    }

    /// The run store: SQLite in the data directory, or the PostgreSQL database of
    /// `--database` (cluster mode, with this node's id).
    func openStore(directory: URL) throws -> (store: any CronTicker.Store, close: () -> Void, description: String) {
        guard let url = command.databaseURL else {
            do {
                let store = try SQLiteRunStore(dataDirectory: directory)
                return (store, { try? store.close() }, "sqlite")
            } catch {
                throw ServeError.setup("cannot open the data directory \(directory.path): \(error)")
            }
        }
        let shown = DatabaseURL.redacted(url)
        do {
            let node = try command.nodeID ?? NodeIdentity.load(directory: directory)
            let store = try PostgresRunStore(url: url, nodeID: node)
            return (store, { store.close() }, "postgres \(shown) as node \(node)")
        } catch {
            throw ServeError.setup("cannot open the database \(shown): \(error)")
        }
    }

    /// The API token from `--token-file` or `BATON_TOKEN`; never logged.
    func loadToken() throws -> String? {
        if let path = command.tokenFile {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ServeError.setup("cannot read the token file \(path)")
            }
            let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !token.isEmpty else { throw ServeError.setup("the token file \(path) is empty") }
            return token
        }
        if let token = ProcessInfo.processInfo.environment["BATON_TOKEN"], !token.isEmpty {
            return token
        }
        return nil
    }
}
