import Foundation

/// One `baton serve` process of a cluster, as registered in the shared database
/// (`GET /v1/nodes`).
public struct ClusterNode: Sendable, Equatable {
    /// `live` while it heartbeats, `lost` once its lease expired, `stopped` after a clean
    /// shutdown.
    public enum State: String, Sendable {
        case live, lost, stopped
    }

    public var id: String
    public var hostname: String
    public var labels: [String: String]
    public var slots: Int
    public var busySlots: Int
    public var version: String
    public var startedAt: Date
    public var heartbeatAt: Date
    public var state: State
    /// Where the other nodes reach its API (task logs are fetched there); nil until it
    /// listens.
    public var url: String?

    public init(
        id: String, hostname: String, labels: [String: String], slots: Int, busySlots: Int = 0, version: String,
        startedAt: Date = Date(), heartbeatAt: Date = Date(), state: State = .live, url: String? = nil
    ) {
        self.url = url
        self.id = id
        self.hostname = hostname
        self.labels = labels
        self.slots = slots
        self.busySlots = busySlots
        self.version = version
        self.startedAt = startedAt
        self.heartbeatAt = heartbeatAt
        self.state = state
    }
}

/// Runs this node took over from a node whose lease expired (or that stopped).
public struct AdoptedRuns: Sendable {
    /// The node that lost them (nil: they had no owner).
    public var lostNode: String?
    public var runs: [RunRecord]

    public init(lostNode: String?, runs: [RunRecord]) {
        self.lostNode = lostNode
        self.runs = runs
    }
}

/// A request for a run's owner from another node (a cancel sent to any node).
public struct RunCommand: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case cancel
    }

    public var runID: String
    public var kind: Kind

    public init(runID: String, kind: Kind) {
        self.runID = runID
        self.kind = kind
    }
}

/// The port of cluster mode (issue 9): node membership, run ownership with leases, named
/// leases (the cron ticker's), and commands between nodes. Every run has one owner node,
/// which runs its scheduling; ownership moves only when the owner's lease expired, and each
/// move bumps the run's generation, which fences the old owner's writes.
public protocol ClusterStore: Sendable {
    /// This node's id.
    var nodeID: String? { get }
    /// Registers (or re-registers) this node as live.
    func registerNode(_ node: ClusterNode) throws
    /// Renews this node's lease and records how many watchers (event streams, long-polls)
    /// it has; returns whether another node live within `leaseSeconds` has watchers (then
    /// this node relays its events).
    func heartbeat(busySlots: Int, watchers: Int, leaseSeconds: Double) throws -> Bool
    /// A clean shutdown: the other nodes may take this node's runs at once.
    func markStopped() throws
    /// Takes over the unfinished runs of nodes whose lease expired more than
    /// `leaseSeconds` ago, or that stopped: all runs of one lost node together (a run and
    /// its child runs stay on one node).
    func adoptLostRuns(leaseSeconds: Double) throws -> [AdoptedRuns]
    /// Runs this node executes that another node has taken over since.
    func lostRuns() throws -> [String]
    /// Every registered node, with its state judged by `leaseSeconds`.
    func nodes(leaseSeconds: Double) throws -> [ClusterNode]
    /// Takes or renews the named lease for `seconds`; false while another live node holds it.
    func holdLease(_ name: String, seconds: Double) throws -> Bool
    func releaseLease(_ name: String) throws
    /// Queues `command` for the run's owner and wakes it. False when the run is finished,
    /// unknown, or owned by this node (then the caller acts itself).
    func postCommand(_ command: RunCommand) throws -> Bool
    /// Takes the commands queued for runs this node owns.
    func takeCommands() throws -> [RunCommand]
    /// Tells every node that stored workflows changed (the cron owner re-plans).
    func announceWorkflowsChanged() throws
    /// Records where the other nodes reach this node's API.
    func setNodeURL(_ url: String) throws
    /// The API address of the node that ran an attempt, when that is another node (nil:
    /// this node, or unknown).
    func remoteNodeURL(runID: String, taskIndex: Int, attempt: Int) throws -> (node: String, url: String?)?
    /// Blocks up to `timeout` seconds for a wake-up from another node; returns what it was
    /// about (`commands`, `workflows`, `stopped`, `work`, `done`, `stops`, `watching`,
    /// `events`), empty on timeout.
    func waitForWakeUp(timeout: Double) -> [String]
}
