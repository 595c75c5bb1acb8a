import CoreMetrics
import RaftCore

/// The node's metrics, reported through swift-metrics (a no-op until the application
/// bootstraps a backend). Every metric carries the node id as a dimension.
struct NodeMetrics {
    private let commitLatency: CoreMetrics.Timer
    private let persistLatency: CoreMetrics.Timer
    private let persistBatchEntries: Recorder
    private let applyLag: Gauge
    private let electionsWon: Counter
    private let snapshotBytes: Recorder
    private let snapshotDuration: CoreMetrics.Timer
    private let snapshotsSent: Counter
    private let refusedEnvelopes: Counter

    init(node: NodeID) {
        let dimensions = [("node", "\(node)")]
        commitLatency = Timer(label: "raft_commit_latency", dimensions: dimensions)
        persistLatency = Timer(label: "raft_persist_latency", dimensions: dimensions)
        persistBatchEntries = Recorder(label: "raft_persist_batch_entries", dimensions: dimensions)
        applyLag = Gauge(label: "raft_apply_lag_entries", dimensions: dimensions)
        electionsWon = Counter(label: "raft_elections_won", dimensions: dimensions)
        snapshotBytes = Recorder(label: "raft_snapshot_bytes", dimensions: dimensions)
        snapshotDuration = Timer(label: "raft_snapshot_duration", dimensions: dimensions)
        snapshotsSent = Counter(label: "raft_snapshots_sent", dimensions: dimensions)
        refusedEnvelopes = Counter(label: "raft_envelopes_refused", dimensions: dimensions)
    }

    /// A proposal applied, `latency` after it was proposed.
    func recordCommit(latency: Duration) {
        commitLatency.recordNanoseconds(Self.nanoseconds(latency))
    }

    /// One `Ready` made durable: its entries and hard state in one batch, one fsync.
    func recordPersist(entries: Int, duration: Duration) {
        persistLatency.recordNanoseconds(Self.nanoseconds(duration))
        persistBatchEntries.record(entries)
    }

    func recordLag(commit: UInt64, applied: UInt64) {
        applyLag.record(Double(commit - min(commit, applied)))
    }

    func recordElectionWon() {
        electionsWon.increment()
    }

    func recordSnapshot(bytes: Int64, duration: Duration) {
        snapshotBytes.record(bytes)
        snapshotDuration.recordNanoseconds(Self.nanoseconds(duration))
    }

    func recordSnapshotSent() {
        snapshotsSent.increment()
    }

    /// A peer's envelope dropped or refused because nothing valid could have produced it.
    func recordRefusedEnvelope() {
        refusedEnvelopes.increment()
    }

    private static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
