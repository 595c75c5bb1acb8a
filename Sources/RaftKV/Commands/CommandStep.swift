/// One command of a pipeline, planned: answered at once, or a write to replicate, or a read to
/// run at a linearizable point.
enum CommandStep {
    /// The reply is known without the log.
    case reply(RESPValue)
    /// A write: its command, and how its result becomes the reply.
    case write(KVCommand, render: @Sendable (KVResult) -> RESPValue)
    /// A read: a query on the store that gives the reply.
    case read(@Sendable (KVStore) -> RESPValue)
    /// A write another node forwarded: proposed here as it is, never forwarded again.
    case forwarded([UInt8])
    /// An operator's request for a snapshot of this node's state machine now.
    case snapshot
    /// An operator's membership request (`RAFTKV.MEMBER`).
    case membership(MembershipRequest)
}
