/// How the leader is currently replicating to one follower.
public enum ProgressState: Sendable, Hashable {
    /// The leader does not know where the follower's log matches; it sends one
    /// append per heartbeat round and backs off on rejection.
    case probe
    /// The follower is in sync; appends are pipelined within the in-flight
    /// window.
    case replicate
    /// The follower needs entries that were compacted; a snapshot is being
    /// transferred and nothing else is sent until it finishes.
    case snapshot
}
