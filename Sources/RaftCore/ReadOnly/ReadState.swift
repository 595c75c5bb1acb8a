/// A completed linearizable read: once the application has applied through
/// ``index``, it may serve the read identified by ``context``.
public struct ReadState: Sendable, Hashable {
    /// The commit index the leader confirmed for the read.
    public var index: UInt64
    /// The caller's context, passed to ``RaftReplica/readIndex(context:)``.
    public var context: [UInt8]

    /// Creates a read state.
    public init(index: UInt64, context: [UInt8]) {
        self.index = index
        self.context = context
    }
}
