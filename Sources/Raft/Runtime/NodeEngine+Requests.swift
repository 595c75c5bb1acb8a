import RaftCore
import WAL

extension NodeEngine {
    /// Proposes a command; `completion` runs with the state machine's output once it is
    /// applied, or with the reason it will not be (or may not have been).
    nonisolated(nonsending) package func propose(_ command: [UInt8], completion: @escaping ProposalCompletion) async {
        if let refusal = refusal(proposing: true) { return completion(.failure(refusal)) }
        guard !command.isEmpty else { return completion(.failure(.emptyCommand)) }
        do throws(RaftError) { try replica.propose(command) } catch { return completion(.failure(Self.map(error))) }
        track(.command(completion))
        await drive()
    }

    /// Proposes a membership change; `completion` runs once it is applied.
    nonisolated(nonsending) package func changeMembership(_ change: ConfChange, completion: @escaping Completion) async {
        if let refusal = refusal(proposing: true) { return completion(.failure(refusal)) }
        do throws(RaftError) { try replica.proposeConfChange(change) } catch {
            return completion(.failure(Self.map(error)))
        }
        track(.membership(completion))
        await drive()
    }

    /// Starts a linearizable read (ReadIndex); `completion` runs once the state machine has
    /// applied everything committed when the read began, so reading it then is linearizable.
    /// Works on followers too: they ask the leader for its commit index.
    nonisolated(nonsending) package func read(completion: @escaping Completion) async {
        if let refusal = refusal(proposing: false) { return completion(.failure(refusal)) }
        guard reads.count < configuration.maxPendingReads else { return completion(.failure(.overloaded)) }
        let context = reads.register(completion, deadline: ticks + UInt64(configuration.readTimeoutTicks))
        do throws(RaftError) { try replica.readIndex(context: context) } catch {
            reads.fail(context: context, Self.map(error))
            return
        }
        await drive()
    }

    /// Asks the leader to hand leadership to `target`. Returns once the request is made;
    /// watch `status` for the outcome.
    nonisolated(nonsending) package func transferLeadership(to target: NodeID) async throws(RaftNodeError) {
        if let failure { throw .stopped(cause: failure) }
        do throws(RaftError) { try replica.transferLeadership(to: target) } catch { throw Self.map(error) }
        await drive()
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
            guard proposals.count < configuration.maxPendingProposals else { return .overloaded }
        }
        return nil
    }

    /// Records the waiter of the entry the core just appended.
    private func track(_ waiter: PendingProposal.Waiter) {
        proposals[replica.lastIndex] = PendingProposal(term: replica.term, proposedAt: .now, waiter: waiter)
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
/// reach their index.
struct PendingReads {
    typealias Completion = (Result<Void, RaftNodeError>) -> Void

    private var nextContext: UInt64 = 1
    private var unconfirmed: [UInt64: (deadline: UInt64, completion: Completion)] = [:]
    /// Confirmed reads, sorted by index.
    private var confirmed: [(index: UInt64, deadline: UInt64, completion: Completion)] = []

    var count: Int { unconfirmed.count + confirmed.count }

    mutating func register(_ completion: @escaping Completion, deadline: UInt64) -> [UInt8] {
        let context = nextContext
        nextContext += 1
        unconfirmed[context] = (deadline, completion)
        return Self.encode(context)
    }

    mutating func fail(context: [UInt8], _ error: RaftNodeError) {
        guard let id = Self.decode(context), let read = unconfirmed.removeValue(forKey: id) else { return }
        read.completion(.failure(error))
    }

    mutating func confirm(_ states: [ReadState]) {
        for state in states {
            guard let id = Self.decode(state.context), let read = unconfirmed.removeValue(forKey: id) else { continue }
            confirmed.append((state.index, read.deadline, read.completion))
        }
        confirmed.sort { $0.index < $1.index }
    }

    mutating func serve(appliedThrough applied: UInt64) {
        let ready = confirmed.prefix { $0.index <= applied }
        guard !ready.isEmpty else { return }
        confirmed.removeFirst(ready.count)
        for read in ready { read.completion(.success(())) }
    }

    /// Fails reads past their deadline: unconfirmed ones, and confirmed ones this node has
    /// not caught up with (it may be cut off from the leader).
    mutating func expire(now: UInt64) {
        guard count > 0 else { return }
        let expired = unconfirmed.filter { $0.value.deadline <= now }.keys.sorted()
        var timedOut = expired.compactMap { unconfirmed.removeValue(forKey: $0)?.completion }
        timedOut += confirmed.filter { $0.deadline <= now }.map(\.completion)
        confirmed.removeAll { $0.deadline <= now }
        for completion in timedOut { completion(.failure(.readTimedOut)) }
    }

    mutating func failAll(_ error: RaftNodeError) {
        let waiting = unconfirmed.sorted { $0.key < $1.key }.map(\.value.completion) + confirmed.map(\.completion)
        unconfirmed = [:]
        confirmed = []
        for completion in waiting { completion(.failure(error)) }
    }

    private static func encode(_ id: UInt64) -> [UInt8] {
        withUnsafeBytes(of: id.littleEndian) { Array($0) }
    }

    private static func decode(_ context: [UInt8]) -> UInt64? {
        guard context.count == 8 else { return nil }
        return context.reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }
}
