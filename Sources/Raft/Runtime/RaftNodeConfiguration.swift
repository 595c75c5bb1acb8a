import Logging
import RaftCore
import WAL

/// How a node with empty storage starts. A node with durable state ignores it: its log and
/// snapshots say which cluster it belongs to.
public enum Bootstrap: Sendable, Hashable {
    /// Founds a new cluster with these voters (as etcd's `--initial-cluster-state=new`).
    case newCluster(voters: Set<NodeID>)
    /// Waits to be added to an existing cluster by its leader (`--initial-cluster-state=existing`).
    /// A node whose disk was wiped must join this way, under a new id: it never resumes an
    /// identity it holds no state for.
    case joinExisting
}

/// Everything a `RaftNode` needs to know to start.
public struct RaftNodeConfiguration: Sendable {
    /// This node's id (non-zero, never reused by another member).
    public var id: NodeID
    /// Where the node keeps its log (`log/`) and snapshots (`snapshots/`).
    public var directory: String
    /// How to start with empty storage.
    public var bootstrap: Bootstrap
    /// The consensus core's tunables (election and heartbeat ticks, flow control…).
    public var raft = RaftOptions()
    /// The real time one tick stands for.
    public var tickInterval: Duration = .milliseconds(100)
    /// A snapshot is taken once this many entries were applied since the last one.
    public var snapshotEntryThreshold = 10_000
    /// …or once this many bytes of entries were applied since the last one.
    public var snapshotByteThreshold = 64 << 20
    /// The size of the chunks a snapshot is shipped in.
    public var snapshotChunkSize = 1 << 20
    /// A snapshot transfer that hears nothing for this many ticks resends its last chunk.
    public var snapshotResendTicks = 10
    /// …and gives up after this many resends in a row.
    public var snapshotMaxResends = 5
    /// Proposals (and membership changes) waiting to be applied; beyond it, `.overloaded`.
    public var maxPendingProposals = 8192
    /// Requests queued for the node's loop and not yet taken by it; beyond it, a request
    /// fails at once with `.overloaded`.
    public var maxQueuedRequests = 8192
    /// Envelopes from peers queued for the node's loop; beyond it (or beyond
    /// `maxQueuedEnvelopeBytes`) an envelope is dropped and counted, as a lost message.
    public var maxQueuedEnvelopes = 8192
    /// Bytes of queued envelopes, roughly; see `maxQueuedEnvelopes`.
    public var maxQueuedEnvelopeBytes = 64 << 20
    /// At most this many requests, and this many envelopes, are stepped into the core before
    /// one `Ready` is taken for all of them.
    public var maxInputsPerBatch = 4096
    /// Log writes in flight at once: the loop keeps taking inputs and sending appends while
    /// they are, and finishes them in order. A small number: a deep pipeline defeats batching.
    public var maxBatchesInFlight = 4
    /// Reads waiting for confirmation or apply; beyond it, `.overloaded`.
    public var maxPendingReads = 8192
    /// A read not confirmed by a leader within this many ticks fails with `.readTimedOut`.
    public var readTimeoutTicks = 30
    /// The newest entries kept in memory for replication.
    public var maxCachedLogBytes = 16 << 20
    /// The write-ahead log's options.
    public var wal = WALOptions()
    /// The snapshot store's options.
    public var snapshots = SnapshotOptions()
    /// Seeds election jitter (use a different one per node and run).
    public var randomSeed: UInt64
    /// Where the node reports its life.
    public var logger = Logger(label: "swift-raft.node")

    /// Creates a configuration with default tunables.
    public init(id: NodeID, directory: String, bootstrap: Bootstrap, randomSeed: UInt64) {
        self.id = id
        self.directory = directory
        self.bootstrap = bootstrap
        self.randomSeed = randomSeed
    }
}
