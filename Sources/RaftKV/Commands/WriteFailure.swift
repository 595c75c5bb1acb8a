import Raft

/// How a write that got no result is answered: whether it may still happen decides the words.
enum WriteFailure {
    /// The reply for a write that failed with `error` on this node.
    static func reply(for error: RaftNodeError) -> RESPValue {
        switch error {
        case .notLeader(nil):
            .error("NOLEADER no leader is known; the write was not executed, retry")
        case .notLeader, .overloaded, .notStarted, .invalidConfiguration, .emptyCommand, .rejected, .proposalDropped,
            .readTimedOut, .leaderChanged:
            .error("TRYAGAIN \(error); the write was not executed, retry")
        case .leadershipLost, .cancelled, .shutDown, .stopped, .storage, .snapshot, .logGap, .undecodableEntry,
            .undecodableSnapshotMetadata, .stateMachineFailed, .alreadyStarted:
            unknown("\(error)")
        }
    }

    /// The reply for a write whose fate this node cannot know.
    static func unknown(_ reason: String) -> RESPValue {
        .error("UNKNOWNOUTCOME the write may or may not have been applied (\(reason)); read before retrying")
    }

    /// The reply for a read that failed: reads are always safe to retry.
    static func readReply(for error: RaftNodeError) -> RESPValue {
        if case .notLeader(nil) = error { return .error("NOLEADER no leader is known, retry") }
        return .error("TRYAGAIN read failed: \(error), retry")
    }
}

/// A write that got no result: the error reply its client gets.
struct FailedWrite: Error {
    /// The reply, which says whether the write may have happened.
    var reply: RESPValue

    init(_ reply: RESPValue) {
        self.reply = reply
    }
}
