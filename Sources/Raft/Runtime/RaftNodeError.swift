import RaftCore
import WAL

/// Why a `RaftNode` refused or failed a request, or stopped.
public enum RaftNodeError: Error, Sendable, CustomStringConvertible {
    /// This node is not the leader; `leader` is the one it knows of, if any. Retry there.
    case notLeader(leader: NodeID?)
    /// Leadership was lost before the entry at `index` was known to be applied. The outcome is
    /// unknown: the entry may still commit under the next leader.
    case leadershipLost(index: UInt64)
    /// Another entry took this proposal's place in the log, so it will never be applied.
    case proposalDropped(index: UInt64)
    /// Too many requests are waiting; retry later.
    case overloaded
    /// A command must hold at least one byte: the empty entry is the leader's no-op.
    case emptyCommand
    /// A read did not get its confirmation from a leader in time; retry.
    case readTimedOut
    /// The term changed while a read waited for its leader's confirmation, which can then
    /// never come; retry (with the new leader).
    case leaderChanged
    /// The core refused the request (a membership change pending, a leader not ready yet…).
    case rejected(RaftError)
    /// The write-ahead log failed; the node stopped and must restart from disk.
    case storage(WALError)
    /// The snapshot store failed; the node stopped and must restart from disk.
    case snapshot(SnapshotError)
    /// The stored log does not reach the snapshot in force.
    case logGap(snapshotIndex: UInt64, logFirstIndex: UInt64)
    /// A stored entry carries an unknown kind.
    case undecodableEntry(index: UInt64)
    /// The snapshot's metadata does not hold a valid configuration.
    case undecodableSnapshotMetadata(file: String)
    /// The state machine threw while applying or restoring.
    case stateMachineFailed(String)
    /// The node stopped earlier because of `cause`.
    indirect case stopped(cause: RaftNodeError)
    /// The node was shut down.
    case shutDown
    /// `run()` was called on a node that already ran; make a new `RaftNode` to restart.
    case alreadyStarted
    /// A request was made before `run()` was called; nothing was done.
    case notStarted
    /// The caller's task was cancelled while it waited. For a proposal or a membership
    /// change the outcome is unknown: it may still be applied.
    case cancelled
    /// The node's configuration is impossible (such as founding a cluster without itself);
    /// nothing was written.
    case invalidConfiguration(String)

    public var description: String {
        switch self {
        case .notLeader(let leader): "not the leader (leader: \(leader.map(String.init) ?? "unknown"))"
        case .leadershipLost(let index): "leadership lost before entry \(index) was applied; outcome unknown"
        case .proposalDropped(let index): "entry \(index) was replaced by another leader's; not applied"
        case .overloaded: "overloaded: too many requests waiting"
        case .emptyCommand: "a command must not be empty"
        case .invalidConfiguration(let reason): "invalid configuration: \(reason)"
        case .readTimedOut: "read timed out waiting for the leader"
        case .leaderChanged: "the leader changed before the read was confirmed"
        case .rejected(let error): "rejected: \(error)"
        case .storage(let error): "write-ahead log failed: \(error)"
        case .snapshot(let error): "snapshot store failed: \(error)"
        case .logGap(let snapshotIndex, let first):
            "the log starts at \(first) but the snapshot in force ends at \(snapshotIndex)"
        case .undecodableEntry(let index): "entry \(index) has an unknown kind"
        case .undecodableSnapshotMetadata(let file): "\(file): the metadata holds no valid configuration"
        case .stateMachineFailed(let reason): "state machine failed: \(reason)"
        case .stopped(let cause): "node stopped: \(cause)"
        case .shutDown: "node is shut down"
        case .alreadyStarted: "this node already ran; create a new RaftNode to restart it"
        case .notStarted: "the node is not running: call run() (or run it in a ServiceGroup) first; nothing was done"
        case .cancelled: "cancelled while waiting; a proposal's outcome is unknown (it may still be applied)"
        }
    }
}
