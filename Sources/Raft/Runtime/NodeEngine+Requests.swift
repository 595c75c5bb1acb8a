import RaftCore
import WAL

extension NodeEngine {
    /// Proposes a command; `completion` runs with the state machine's output once it is
    /// applied, or with the reason it will not be (or may not have been).
    nonisolated(nonsending) package func propose(_ command: [UInt8], completion: @escaping ProposalCompletion) async {
        stepProposals([(command, completion)])
        await drive()
    }

    /// Proposes several commands as one batch (see `stepProposals`), then drives the loop.
    nonisolated(nonsending) package func propose(batch: [(command: [UInt8], completion: ProposalCompletion)]) async {
        stepProposals(batch)
        await drive()
    }

    /// Proposes several commands as one batch: the core appends them together, and they go
    /// to the log in one write and to followers in as few appends as the limits allow.
    /// Commands beyond `maxPendingProposals` fail with `.overloaded`.
    func stepProposals(_ batch: [(command: [UInt8], completion: ProposalCompletion)]) {
        guard !batch.isEmpty else { return }
        if let refusal = refusal(proposing: true) {
            for proposal in batch { proposal.completion(.failure(refusal)) }
            return
        }
        var accepted: [(command: [UInt8], completion: ProposalCompletion)] = []
        accepted.reserveCapacity(batch.count)
        for proposal in batch {
            if proposal.command.isEmpty {
                proposal.completion(.failure(.emptyCommand))
            } else if proposals.count + accepted.count >= configuration.maxPendingProposals {
                proposal.completion(.failure(.overloaded))
            } else {
                accepted.append(proposal)
            }
        }
        guard !accepted.isEmpty else { return }
        let first = replica.lastIndex + 1
        do throws(RaftError) { try replica.propose(batch: accepted.map(\.command)) } catch {
            let mapped = Self.map(error)
            for proposal in accepted { proposal.completion(.failure(mapped)) }
            return
        }
        let now = ContinuousClock.now
        for (offset, proposal) in accepted.enumerated() {
            proposals[first + UInt64(offset)] = PendingProposal(
                term: replica.term, proposedAt: now, waiter: .command(proposal.completion))
        }
    }

    /// Proposes a membership change; `completion` runs once it is applied.
    nonisolated(nonsending) package func changeMembership(_ change: ConfChange, completion: @escaping Completion) async {
        stepChangeMembership(change, completion: completion)
        await drive()
    }

    func stepChangeMembership(_ change: ConfChange, completion: @escaping Completion) {
        if let refusal = refusal(proposing: true) { return completion(.failure(refusal)) }
        guard proposals.count < configuration.maxPendingProposals else { return completion(.failure(.overloaded)) }
        do throws(RaftError) { try replica.proposeConfChange(change) } catch {
            return completion(.failure(Self.map(error)))
        }
        proposals[replica.lastIndex] = PendingProposal(
            term: replica.term, proposedAt: .now, waiter: .membership(completion))
    }

    /// Starts a linearizable read (ReadIndex); `completion` runs once the state machine has
    /// applied everything committed when the read began, so reading it then is linearizable.
    /// Works on followers too: they ask the leader for its commit index.
    nonisolated(nonsending) package func read(completion: @escaping Completion) async {
        stepReads([completion])
        await drive()
    }

    /// Starts several reads as one ReadIndex round (see `stepReads`), then drives the loop.
    nonisolated(nonsending) package func read(batch: [Completion]) async {
        stepReads(batch)
        await drive()
    }

    /// Starts linearizable reads that arrived together: they share one ReadIndex round
    /// (one heartbeat round on the leader, one request to it on a follower).
    func stepReads(_ completions: [Completion]) {
        guard !completions.isEmpty else { return }
        if let refusal = refusal(proposing: false) {
            for completion in completions { completion(.failure(refusal)) }
            return
        }
        let room = max(0, configuration.maxPendingReads - reads.count)
        for completion in completions.dropFirst(room) { completion(.failure(.overloaded)) }
        let admitted = Array(completions.prefix(room))
        guard !admitted.isEmpty else { return }
        let context = reads.register(admitted, deadline: ticks + UInt64(configuration.readTimeoutTicks))
        do throws(RaftError) { try replica.readIndex(context: context) } catch {
            reads.fail(context: context, Self.map(error))
        }
    }

    /// Asks the leader to hand leadership to `target`. Returns once the request is made;
    /// watch `status` for the outcome.
    nonisolated(nonsending) package func transferLeadership(to target: NodeID) async throws(RaftNodeError) {
        try stepTransferLeadership(to: target)
        await drive()
    }

    func stepTransferLeadership(to target: NodeID) throws(RaftNodeError) {
        if let failure { throw .stopped(cause: failure) }
        do throws(RaftError) { try replica.transferLeadership(to: target) } catch { throw Self.map(error) }
    }

    /// Takes a snapshot now, if anything was applied since the last one. Returns its index.
    nonisolated(nonsending) package func snapshotNow() async throws(RaftNodeError) -> UInt64 {
        if let failure { throw .stopped(cause: failure) }
        await takeSnapshot()
        if let failure { throw .stopped(cause: failure) }
        return replica.storage.snapshot.index
    }

    private func refusal(proposing: Bool) -> RaftNodeError? {
        if let failure { return .stopped(cause: failure) }
        if proposing {
            guard replica.role == .leader else { return .notLeader(leader: replica.leader) }
        }
        return nil
    }

    static func map(_ error: RaftError) -> RaftNodeError {
        if case .notLeader(let leader) = error { return .notLeader(leader: leader) }
        return .rejected(error)
    }

    /// Completes reads whose index the state machine has reached.
    func serveReads() {
        reads.serve(appliedThrough: replica.appliedIndex)
    }

    func expireReads() {
        reads.expire(now: ticks)
    }
}

/// Reads waiting for a leader's confirmation (by context), then for the state machine to
/// reach their index. Reads that arrived together share one context, so one ReadIndex round
/// confirms them all (etcd's `linearizableReadLoop` does the same).
struct PendingReads {
    typealias Completion = (Result<Void, RaftNodeError>) -> Void

    private var nextContext: UInt64 = 1
    private var unconfirmed: [UInt64: (deadline: UInt64, completions: [Completion])] = [:]
    /// Confirmed rounds, sorted by index.
    private var confirmed: [(index: UInt64, deadline: UInt64, completions: [Completion])] = []
    /// Reads waiting, for the bound.
    private(set) var count = 0

    mutating func register(_ completions: [Completion], deadline: UInt64) -> [UInt8] {
        let context = nextContext
        nextContext += 1
        unconfirmed[context] = (deadline, completions)
        count += completions.count
        return Self.encode(context)
    }

    mutating func fail(context: [UInt8], _ error: RaftNodeError) {
        guard let id = Self.decode(context), let round = unconfirmed.removeValue(forKey: id) else { return }
        finish(round.completions, .failure(error))
    }

    mutating func confirm(_ states: [ReadState]) {
        guard !states.isEmpty else { return }
        for state in states {
            guard let id = Self.decode(state.context), let round = unconfirmed.removeValue(forKey: id) else { continue }
            confirmed.append((state.index, round.deadline, round.completions))
        }
        confirmed.sort { $0.index < $1.index }
    }

    mutating func serve(appliedThrough applied: UInt64) {
        let ready = confirmed.prefix { $0.index <= applied }
        guard !ready.isEmpty else { return }
        confirmed.removeFirst(ready.count)
        for round in ready { finish(round.completions, .success(())) }
    }

    /// Fails reads past their deadline: unconfirmed ones, and confirmed ones this node has
    /// not caught up with (it may be cut off from the leader).
    mutating func expire(now: UInt64) {
        guard count > 0 else { return }
        let expired = unconfirmed.filter { $0.value.deadline <= now }.keys.sorted()
        var timedOut = expired.compactMap { unconfirmed.removeValue(forKey: $0)?.completions }
        timedOut += confirmed.filter { $0.deadline <= now }.map(\.completions)
        confirmed.removeAll { $0.deadline <= now }
        for completions in timedOut { finish(completions, .failure(.readTimedOut)) }
    }

    /// Fails the reads not yet confirmed; confirmed ones wait on for the state machine.
    mutating func failUnconfirmed(_ error: RaftNodeError) {
        guard !unconfirmed.isEmpty else { return }
        let waiting = unconfirmed.sorted { $0.key < $1.key }.map(\.value.completions)
        unconfirmed = [:]
        for completions in waiting { finish(completions, .failure(error)) }
    }

    mutating func failAll(_ error: RaftNodeError) {
        let waiting = unconfirmed.sorted { $0.key < $1.key }.map(\.value.completions) + confirmed.map(\.completions)
        unconfirmed = [:]
        confirmed = []
        for completions in waiting { finish(completions, .failure(error)) }
    }

    private mutating func finish(_ completions: [Completion], _ result: Result<Void, RaftNodeError>) {
        count -= completions.count
        for completion in completions { completion(result) }
    }

    private static func encode(_ id: UInt64) -> [UInt8] {
        withUnsafeBytes(of: id.littleEndian) { Array($0) }
    }

    private static func decode(_ context: [UInt8]) -> UInt64? {
        guard context.count == 8 else { return nil }
        return context.reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }
}
