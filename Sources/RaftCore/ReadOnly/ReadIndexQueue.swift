/// Reads waiting for a heartbeat round to confirm the leader's leadership.
///
/// Each read gets a round id that is unique and increasing for the life of
/// this node; heartbeats carry it and replies echo it. A reply to round `r`
/// was sent after every read `<= r` was registered, so it confirms them all,
/// but it can never confirm a later read: a late reply to an old heartbeat
/// cannot serve a newer read stale data (etcd-io/etcd #20418, where reused
/// contexts allowed exactly that).
struct ReadIndexQueue: Sendable {
    struct PendingRead: Sendable {
        let round: UInt64
        let index: UInt64
        let requester: NodeID
        let context: [UInt8]
        var acknowledgements: Set<NodeID>
    }

    private(set) var pending: [PendingRead] = []
    /// The last round id issued; never reset, so ids are never reused.
    private(set) var lastRound: UInt64 = 0

    /// Registers a read at commit index `index`; returns its round id.
    mutating func add(index: UInt64, requester: NodeID, context: [UInt8], selfID: NodeID) -> UInt64 {
        lastRound += 1
        pending.append(PendingRead(round: lastRound, index: index, requester: requester, context: context, acknowledgements: [selfID]))
        return lastRound
    }

    /// The newest round still waiting, carried by periodic heartbeats so a
    /// lost heartbeat does not stall the reads.
    var newestPendingRound: UInt64 { pending.last?.round ?? 0 }

    /// Records that `from` answered round `round`, and returns the reads that
    /// are now confirmed, oldest first.
    mutating func acknowledge(round: UInt64, from: NodeID, isQuorum: (Set<NodeID>) -> Bool) -> [PendingRead] {
        guard round > 0 else { return [] }
        var confirmedCount = 0
        for position in pending.indices where pending[position].round <= round {
            pending[position].acknowledgements.insert(from)
            if isQuorum(pending[position].acknowledgements) {
                confirmedCount = position + 1
            }
        }
        let confirmed = Array(pending.prefix(confirmedCount))
        pending.removeFirst(confirmedCount)
        return confirmed
    }

    /// Drops every pending read (on losing leadership).
    mutating func reset() {
        pending = []
    }
}
