import DequeModule
import RaftCore
import WAL

/// How a node's log writes become durable.
package enum WriteScheduling: Sendable {
    /// Each batch goes to the log at once; `durable` runs (on the log's writer thread) when it
    /// is durable, or with the error that failed the log. The owner hands that back to
    /// ``NodeEngine/batchDurable(_:error:)`` on the engine's task. What `RaftNode` uses.
    ///
    /// A ``FreezableStateMachine``'s snapshots are written on another task too, and
    /// `snapshotWritten` runs when one is done; the owner then calls
    /// ``NodeEngine/finishBackgroundSnapshot()`` on the engine's task.
    case background(
        durable: @Sendable (_ batch: UInt64, _ error: WALError?) -> Void,
        snapshotWritten: @Sendable () -> Void)
    /// Each batch is held until ``NodeEngine/releaseHeldWrites(_:)``, so the deterministic
    /// simulator decides when writes become durable; a crash before then loses them.
    case held
}

/// One `Ready` between being taken from the core and being finished.
struct PipelinedBatch {
    /// Numbers the batch's write, for matching its completion; unused without a write.
    let id: UInt64
    var ready: Ready
    /// Whether its write (if any) is durable.
    var durable: Bool
    /// Whether it may finish before its write is durable: its only write is a higher commit
    /// index (clause 4 of the persistence contract).
    let finishesBeforeDurable: Bool
    /// Whether it was applied and handed back to the core.
    var finished = false
    let started: ContinuousClock.Instant
}

extension NodeEngine {
    // MARK: The Ready loop

    /// Takes every `Ready` the core has, while fewer than `maxBatchesInFlight` writes are in
    /// flight; finishes those that are durable, in order; then takes a snapshot if one is due.
    ///
    /// A `Ready` goes through three steps:
    /// 1. *Taken:* its `messages` go out at once (a leader's appends travel while it persists)
    ///    and its entries and hard state go to the log as one batch with one fsync. The loop
    ///    does not wait: it goes on taking inputs and `Ready`s while the batch is in flight.
    /// 2. *Durable:* the log says so (`batchDurable`), strictly in the order written.
    /// 3. *Finished,* in the order taken and only once it and every earlier one is durable: the
    ///    entries join the core's durable storage, `messagesAfterPersist` (vote grants, append
    ///    acknowledgements) go out, committed entries are applied, waiting requests complete,
    ///    and the core hears it is done (only then does a leader's own acknowledgement count).
    ///
    /// A `Ready` whose only write is a higher commit index finishes as soon as those before
    /// it have, without waiting for its own write. A `Ready` that installs a snapshot or
    /// replaces stored entries is a barrier: it waits until every earlier batch has finished,
    /// then is carried out on its own.
    nonisolated(nonsending) func drive() async {
        while failure == nil {
            if let error = readFailure.error { return stop(error) }
            finishBatches()
            guard failure == nil else { return }
            if let barrier {
                guard batches.isEmpty else { break }
                // A received snapshot replaces the state; one being written from it must be
                // done first, so the two never race in the snapshot store.
                if barrier.snapshot != nil { await finishBackgroundSnapshot() }
                self.barrier = nil
                await carryOutAlone(barrier)
                continue
            }
            guard writesInFlight < configuration.maxBatchesInFlight, replica.hasReady else { break }
            take(replica.ready())
        }
        noticeRoleChange()
        guard failure == nil, barrier == nil else { return }
        await snapshotIfDue()
    }

    /// Step 1.
    private func take(_ ready: Ready) {
        send(ready.messages)
        if ready.snapshot != nil || replacesStoredEntries(ready) {
            barrier = ready
            return
        }
        guard ready.needsPersistence else {
            batches.append(
                PipelinedBatch(id: 0, ready: ready, durable: true, finishesBeforeDurable: false, started: .now))
            return
        }
        #if RAFT_PLANTED_BUG_EARLY_SELF_ACK
        // Planted bug, for proving the simulator catches it: a leader finishes its batches
        // before they are durable, so its own acknowledgement counts toward the commit quorum
        // before the fsync (breaks clause 2 of the persistence contract).
        let finishesBeforeDurable = ready.onlyAdvancesCommit(after: lastSubmittedHardState) || ready.role == .leader
        #else
        let finishesBeforeDurable = ready.onlyAdvancesCommit(after: lastSubmittedHardState)
        #endif
        if let hardState = ready.hardState { lastSubmittedHardState = hardState }
        nextBatchID += 1
        let id = nextBatchID
        let batch = PipelinedBatch(
            id: id, ready: ready, durable: false, finishesBeforeDurable: finishesBeforeDurable, started: .now)
        batches.append(batch)
        writesInFlight += 1
        write(id: id, entries: ready.entries, hardState: ready.hardState)
    }

    /// Whether `ready`'s entries replace entries already written (a conflicting suffix of an
    /// old leader's, never committed): the log must truncate before it appends.
    private func replacesStoredEntries(_ ready: Ready) -> Bool {
        guard let first = ready.entries.first else { return false }
        let lastHeld = heldWrites.last { !$0.records.isEmpty }?.records.last?.index ?? 0
        return first.index <= max(wal.lastAcceptedIndex, lastHeld)
    }

    /// Hands one batch to the log.
    private func write(id: UInt64, entries: [Entry], hardState: RaftCore.HardState?) {
        let records = entries.map(EntryRecord.record)
        let walHardState = Self.walHardState(hardState)
        switch writes {
        case .background(let durable, _):
            wal.append(records, hardState: walHardState) { error in durable(id, error) }
        case .held:
            heldWrites.append(HeldWrite(id: id, records: records, hardState: walHardState))
        }
    }

    /// The log's form of a hard state to persist.
    private static func walHardState(_ state: RaftCore.HardState?) -> WAL.HardState? {
        var converted = state.map(EntryRecord.walHardState)
        #if RAFT_PLANTED_BUG_FORGET_VOTE
        // Planted bug, for proving the simulator catches it: the vote is not persisted.
        converted?.vote = 0
        #endif
        return converted
    }

    /// Step 2: the log made batch `id` durable, or failed. Completions come in write order.
    package func batchDurable(_ id: UInt64, error: WALError?) {
        guard failure == nil else { return }
        if let error { return stop(.storage(error)) }
        guard let position = batches.firstIndex(where: { $0.id == id && !$0.durable }) else { return }
        batches[position].durable = true
        writesInFlight -= 1
        let batch = batches[position]
        metrics.recordPersist(entries: batch.ready.entries.count, duration: ContinuousClock.now - batch.started)
        if batch.finished, let hardState = batch.ready.hardState {
            // It finished early (a commit-only write); the core may now advertise that commit.
            replica.hardStateDurable(hardState)
        }
    }

    /// Performs up to `count` held writes, oldest first, as the log's writer would, and
    /// reports them durable; then carries on with the `Ready` loop. For the simulator.
    nonisolated(nonsending) package func releaseHeldWrites(_ count: Int = .max) async {
        var released = 0
        while released < count, failure == nil, !heldWrites.isEmpty {
            let held = heldWrites.removeFirst()
            released += 1
            let result = WriteOutcome()
            wal.append(held.records, hardState: held.hardState) { result.error = $0 }
            // In `.callingThread` mode the completion has run before `append` returns.
            batchDurable(held.id, error: result.error)
        }
        if released > 0 { await drive() }
    }

    /// Writes held for the simulator.
    package var heldWriteCount: Int { heldWrites.count }

    /// Step 3, for every batch that may finish now, in order.
    private func finishBatches() {
        var position = 0
        while position < batches.count, failure == nil {
            let batch = batches[position]
            if !batch.finished {
                guard batch.durable || batch.finishesBeforeDurable else { break }
                finish(batch)
                batches[position].finished = true
            }
            position += 1
        }
        while let first = batches.first, first.finished, first.durable { batches.removeFirst() }
    }

    private func finish(_ batch: PipelinedBatch) {
        var ready = batch.ready
        if !ready.entries.isEmpty {
            // Durable now: only batches without entries finish before they are.
            replica.updateStorage { $0.append(ready.entries) }
        }
        if !batch.durable {
            // Its hard state (a commit index) is reported once durable, in `batchDurable`.
            ready.hardState = nil
        }
        send(ready.messagesAfterPersist)
        complete(ready)
    }

    /// The rest of step 3, for a `Ready` that is durable (or needs no fsync to finish):
    /// apply, serve reads, hand it back to the core.
    private func complete(_ ready: Ready) {
        do throws(RaftNodeError) { try apply(ready.committedEntries) } catch { return stop(error) }
        reads.confirm(ready.readStates)
        replica.advance(ready)
        willAnswer()
        for waiter in appliedWaiters { waiter() }
        appliedWaiters.removeAll(keepingCapacity: true)
        serveReads()
        noticeRoleChange()
        metrics.recordLag(commit: replica.commitIndex, applied: replica.appliedIndex)
    }

    /// Carries out a barrier `Ready` (a received snapshot, or entries that replace stored
    /// ones) with nothing else in flight, waiting for its write.
    nonisolated(nonsending) private func carryOutAlone(_ ready: Ready) async {
        let started = ContinuousClock.now
        do throws(RaftNodeError) { try await persistAlone(ready) } catch { return stop(error) }
        if let hardState = ready.hardState { lastSubmittedHardState = hardState }
        metrics.recordPersist(entries: ready.entries.count, duration: ContinuousClock.now - started)
        send(ready.messagesAfterPersist)
        if let snapshot = ready.snapshot {
            do throws(RaftNodeError) { try await restoreReceivedSnapshot(snapshot) } catch { return stop(error) }
        }
        complete(ready)
    }

    nonisolated(nonsending) private func persistAlone(_ ready: Ready) async throws(RaftNodeError) {
        if let snapshot = ready.snapshot {
            try await recordReceivedSnapshot(snapshot)
        }
        if let first = ready.entries.first, first.index <= wal.lastAcceptedIndex {
            // A conflicting suffix from an old leader; it was never committed.
            do { try await wal.truncateSuffix(after: first.index - 1) } catch { throw .storage(error) }
        }
        let hardState = Self.walHardState(ready.hardState)
        if !ready.entries.isEmpty || hardState != nil {
            do { try await wal.append(ready.entries.map(EntryRecord.record), hardState: hardState) } catch {
                throw .storage(error)
            }
        }
        replica.updateStorage { $0.append(ready.entries) }
    }

    /// Step 3's apply: committed entries go to the state machine, and the proposals waiting
    /// for them complete.
    private func apply(_ entries: [Entry]) throws(RaftNodeError) {
        guard !entries.isEmpty else { return }
        var commands: [CommittedCommand] = []
        for entry in entries where entry.kind == .normal && !entry.data.isEmpty {
            commands.append(CommittedCommand(index: entry.index, term: entry.term, data: entry.data))
        }
        let outputs: [SM.Output]
        do { outputs = try stateMachine.apply(commands) } catch { throw .stateMachineFailed("\(error)") }
        guard outputs.count == commands.count else {
            throw .stateMachineFailed("apply returned \(outputs.count) outputs for \(commands.count) commands")
        }
        // Plain positions rather than a zip of generic tuples: this loop runs once per entry,
        // and in unspecialized code every generic tuple or optional costs a metadata lookup.
        var nextOutput = 0
        let now = ContinuousClock.now
        for entry in entries {
            appliedBytesSinceSnapshot += entry.byteSize
            let output = nextOutput
            let hasOutput = output < commands.count && commands[output].index == entry.index
            if hasOutput { nextOutput += 1 }
            guard let pending = proposals.removeValue(forKey: entry.index) else { continue }
            // Commands are never empty (an empty entry is a leader's no-op), so a proposed
            // command always has an output; only a membership change has none.
            let result: Result<SM.Output, RaftNodeError> =
                hasOutput ? .success(outputs[output]) : .failure(.proposalDropped(index: entry.index))
            complete(pending, entry: entry, result: result, now: now)
        }
    }

    private func complete(
        _ pending: PendingProposal, entry: Entry, result: Result<SM.Output, RaftNodeError>, now: ContinuousClock.Instant
    ) {
        guard pending.term == entry.term else { return pending.fail(.proposalDropped(index: entry.index)) }
        metrics.recordCommit(latency: now - pending.proposedAt)
        switch pending.waiter {
        case .command(let completion):
            appliedWaiters.append { completion(result) }
        case .membership(let completion):
            appliedWaiters.append { completion(.success(())) }
        }
    }

    func send(_ messages: [Message]) {
        guard !messages.isEmpty else { return }
        var envelopes: [Envelope] = []
        envelopes.reserveCapacity(messages.count)
        for message in messages {
            if message.kind == .snapshot {
                startSnapshotTransfer(message)
            } else {
                envelopes.append(.raft(message))
            }
        }
        if !envelopes.isEmpty { transport.send(envelopes) }
    }
}

/// A batch the simulator has not yet let the log write.
struct HeldWrite {
    let id: UInt64
    let records: [LogEntry]
    let hardState: WAL.HardState?
}

/// Where a held write's completion leaves its outcome (it runs before `append` returns).
private final class WriteOutcome: @unchecked Sendable {
    var error: WALError?
}
