import Logging
import Raft
import RaftCore

/// Carries out ``MembershipRequest``s on the leader.
///
/// Adding a member records its addresses in the replicated store first, so that every node
/// (the leader's transport included, through the store's records) learns where it listens
/// from the log, never from flags; then it joins as a learner, which takes no part in
/// quorums while it catches up, and is promoted once it holds everything committed when it
/// was added. An `ADD` cut short (a timeout, a lost leader) leaves a learner, and repeating
/// it resumes from there.
struct MembershipAdministrator: Sendable {
    let backend: any KVBackend
    /// How long a new learner may take to catch up before `ADD` gives up on promoting it.
    let catchUpTimeout: Duration
    let logger: Logger

    /// Executes `request`. `knownMembers` are the addresses last read from the store, used
    /// to point a client at the leader.
    func execute(_ request: MembershipRequest, knownMembers: [UInt64: MemberDirectory.Addresses]) async -> RESPValue {
        if case .list = request { return await list() }
        guard let status = backend.status, status.role == .leader else {
            return Self.notLeader(backend.leaderID, knownMembers: knownMembers)
        }
        do throws(RaftNodeError) {
            switch request {
            case .add(let id, let addresses): return try await add(id, addresses, configuration: status.configuration)
            case .remove(let id): return try await remove(id, configuration: status.configuration)
            case .list: return await list()
            }
        } catch {
            if case .notLeader(let leader) = error { return Self.notLeader(leader, knownMembers: knownMembers) }
            return WriteFailure.reply(for: error)
        }
    }

    /// The reply sending a client to the leader: `-NOTLEADER <client host:port> …`, or
    /// `-NOLEADER …` when no leader (or its address) is known.
    static func notLeader(_ leader: NodeID?, knownMembers: [UInt64: MemberDirectory.Addresses]) -> RESPValue {
        guard let leader, let address = knownMembers[leader]?.client else {
            return .error("NOLEADER no leader is known; membership changes run on the leader; nothing was changed, retry")
        }
        return .error("NOTLEADER \(address) membership changes run on the leader, node \(leader); nothing was changed")
    }

    private func add(
        _ id: UInt64, _ addresses: MemberDirectory.Addresses, configuration: Configuration
    ) async throws(RaftNodeError) -> RESPValue {
        let records = try await backend.read { MemberDirectory.members(in: $0.store) }
        if let other = records.first(where: { $0.key != id && configuration.members.contains($0.key) && $0.value.peer == addresses.peer }) {
            return .error("ERR node \(other.key) already listens on \(addresses.peer); nothing was changed")
        }
        if configuration.isVoter(id) {
            guard records[id] == addresses else {
                return .error("ERR node \(id) is already a voter with other addresses; remove it first; nothing was changed")
            }
            return .ok
        }
        if records[id] != addresses {
            let record = KVCommand.batch([.put(key: MemberDirectory.key(of: id), value: MemberDirectory.value(of: addresses))])
            _ = try await backend.propose(record.encoded())
        }
        if !configuration.learners.contains(id) {
            try await backend.addLearner(id)
            logger.notice("added a learner", metadata: ["member": "\(id)", "peer": "\(addresses.peer)", "client": "\(addresses.client)"])
        }
        guard try await caughtUp(id) else {
            return .error(
                "TIMEOUT node \(id) is a learner but did not catch up within \(catchUpTimeout); not promoted; is it running with --join? Repeat ADD to resume"
            )
        }
        try await backend.promoteLearner(id)
        logger.notice("promoted a learner to voter", metadata: ["member": "\(id)"])
        return .ok
    }

    /// Waits, within ``catchUpTimeout``, until the learner `id` holds every entry committed
    /// now; throws when this node stops leading.
    private func caughtUp(_ id: UInt64) async throws(RaftNodeError) -> Bool {
        guard let target = backend.status?.commitIndex else { throw .notLeader(leader: nil) }
        let deadline = ContinuousClock.now + catchUpTimeout
        while ContinuousClock.now < deadline {
            guard let status = backend.status, status.role == .leader else { throw .notLeader(leader: backend.leaderID) }
            if let match = status.raft.progress[id]?.match, match >= target { return true }
            do {
                try await Task.sleep(for: .milliseconds(50))
            } catch {
                throw .cancelled
            }
        }
        return false
    }

    private func remove(_ id: UInt64, configuration: Configuration) async throws(RaftNodeError) -> RESPValue {
        guard configuration.members.contains(id) else { return .error("ERR node \(id) is not a member; nothing was changed") }
        try await backend.removeMember(id)
        logger.notice("removed a member", metadata: ["member": "\(id)"])
        // The record only tidies the store now; a leader that removed itself may fail to
        // delete it, which leaves an address no one dials.
        do throws(RaftNodeError) {
            _ = try await backend.propose(KVCommand.batch([.delete(keys: [MemberDirectory.key(of: id)])]).encoded())
        } catch {
            logger.warning("could not delete a removed member's record", metadata: ["member": "\(id)", "error": "\(error)"])
        }
        return .ok
    }

    /// Every member of the configuration, read at a linearizable point, as
    /// `[id, "voter"|"learner", peer, client]` arrays (addresses empty when not recorded).
    private func list() async -> RESPValue {
        let records: [UInt64: MemberDirectory.Addresses]
        do throws(RaftNodeError) {
            records = try await backend.read { MemberDirectory.members(in: $0.store) }
        } catch {
            return WriteFailure.readReply(for: error)
        }
        // Applied through the read's index, so the configuration is at least as new.
        guard let configuration = backend.status?.configuration else { return .error("TRYAGAIN the node is starting, retry") }
        return .array(
            configuration.members.sorted().map { id in
                let addresses = records[id]
                return .array([
                    .integer(Int64(id)), .bulk(configuration.isVoter(id) ? "voter" : "learner"),
                    .bulk(addresses?.peer ?? ""), .bulk(addresses?.client ?? ""),
                ])
            })
    }
}
