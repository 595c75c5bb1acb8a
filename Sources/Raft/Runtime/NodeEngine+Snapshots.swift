import RaftCore
import WAL

extension NodeEngine {
    // MARK: Taking snapshots

    /// Takes a snapshot when enough was applied since the last one.
    nonisolated(nonsending) func snapshotIfDue() async {
        guard backgroundSnapshot == nil else { return }
        let applied = replica.appliedIndex
        let since = applied - min(applied, replica.storage.snapshot.index)
        guard since >= UInt64(configuration.snapshotEntryThreshold)
            || (since > 0 && appliedBytesSinceSnapshot >= configuration.snapshotByteThreshold)
        else { return }
        await takeSnapshot()
    }

    /// Writes the state machine at the applied index into a snapshot, makes it durable, then
    /// truncates the log through it (the persistence contract, clause 6). The snapshot's
    /// header carries the applied index, so it is stored with the data (clause 7).
    ///
    /// A ``FreezableStateMachine`` under `RaftNode` is frozen here and written on another
    /// task, and the log is truncated once it is durable (``finishBackgroundSnapshot()``);
    /// meanwhile the loop goes on. Otherwise the snapshot is written here, on the loop.
    nonisolated(nonsending) func takeSnapshot() async {
        guard backgroundSnapshot == nil else { return }
        let index = replica.appliedIndex
        guard index > replica.storage.snapshot.index, let term = replica.storage.term(at: index) else { return }
        if let latest = store.latest, latest.lastIndex >= index { return }
        let configuration = replica.configuration
        let metadata = ConfigurationCodec.encode(configuration)
        let started = ContinuousClock.now
        if case .background(_, let written) = writes, let frozen = frozenState() {
            let store = self.store
            let task = Task {
                let result = await writeSnapshotFile(lastIndex: index, term: term, metadata: metadata, to: store) { sink in
                    try await frozen.writeSnapshot(to: &sink)
                }
                written()
                return result
            }
            backgroundSnapshot = BackgroundSnapshot(index: index, configuration: configuration, started: started, task: task)
            appliedBytesSinceSnapshot = 0
            return
        }
        let result = await writeSnapshotFile(lastIndex: index, term: term, metadata: metadata, to: store) { sink in
            try await stateMachine.writeSnapshot(to: &sink)
        }
        appliedBytesSinceSnapshot = 0
        await install(result, through: index, configuration: configuration, started: started)
    }

    /// Ends the snapshot being written off the loop, if any: waits for it (it is done when
    /// the inbox says so), truncates the log through it, and answers those waiting for it.
    nonisolated(nonsending) package func finishBackgroundSnapshot() async {
        guard let snapshot = backgroundSnapshot else { return }
        let result = await snapshot.task.value
        backgroundSnapshot = nil
        if failure == nil {
            await install(result, through: snapshot.index, configuration: snapshot.configuration, started: snapshot.started)
        }
        let answer: Result<UInt64, RaftNodeError> = failure.map { .failure(.stopped(cause: $0)) }
            ?? .success(replica.storage.snapshot.index)
        for waiter in snapshot.waiters { waiter(answer) }
    }

    /// Takes a snapshot for a caller and answers it with the index the snapshot in force
    /// covers: at once when written on the loop, or when the one off the loop is durable.
    nonisolated(nonsending) package func requestSnapshot(_ completion: @escaping SnapshotCompletion) async {
        if let failure { return completion(.failure(.stopped(cause: failure))) }
        await takeSnapshot()
        if backgroundSnapshot != nil { return backgroundSnapshot!.waiters.append(completion) }
        completion(failure.map { .failure(.stopped(cause: $0)) } ?? .success(replica.storage.snapshot.index))
    }

    /// The state machine, frozen, when it can be.
    private func frozenState() -> (any FrozenState)? {
        func freeze(_ machine: some FreezableStateMachine) -> any FrozenState { machine.freeze() }
        return (stateMachine as? any FreezableStateMachine).map { freeze($0) }
    }

    /// Makes a durable snapshot the one in force: the log is truncated through it, and the
    /// core forgets the entries it covers.
    nonisolated(nonsending) private func install(
        _ result: Result<DurableSnapshot, RaftNodeError>, through index: UInt64, configuration: Configuration,
        started: ContinuousClock.Instant
    ) async {
        let durable: DurableSnapshot
        do {
            durable = try result.get()
            try await store.completeInstall(durable, log: wal)
        } catch let error as SnapshotError {
            return stop(.snapshot(error))
        } catch let error as RaftNodeError {
            return stop(error)
        } catch {
            return stop(.stateMachineFailed("installing a snapshot: \(error)"))
        }
        replica.updateStorage { $0.compact(through: index, configuration: configuration) }
        metrics.recordSnapshot(bytes: durable.descriptor.fileSize, duration: ContinuousClock.now - started)
        logger.debug(
            "snapshot taken",
            metadata: ["id": "\(self.configuration.id)", "index": "\(index)", "bytes": "\(durable.descriptor.fileSize)"])
    }

    /// Replaces `machine`'s state with the snapshot's.
    nonisolated(nonsending) static func restore(
        _ machine: inout SM, from descriptor: SnapshotDescriptor, store: SnapshotStore<FS>
    ) async throws(RaftNodeError) {
        let reader: SnapshotReader<FS>
        do { reader = try store.makeReader(for: descriptor) } catch { throw .snapshot(error) }
        defer { reader.close() }
        do {
            try await machine.restore(from: reader)
        } catch let error as SnapshotError {
            throw .snapshot(error)
        } catch {
            throw .stateMachineFailed("restoring \(descriptor.fileName): \(error)")
        }
    }

    // MARK: Installing a received snapshot

    /// Persists a snapshot the core accepted from the leader: the file is already durable (the
    /// receiver made it so); the log is emptied to continue after it.
    nonisolated(nonsending) func recordReceivedSnapshot(_ snapshot: SnapshotMetadata) async throws(RaftNodeError) {
        let durable = try receivedSnapshot(snapshot)
        if wal.lastAcceptedIndex > snapshot.index {
            // Entries beyond the snapshot came from an older leader and may conflict.
            do { try await wal.truncateSuffix(after: max(snapshot.index, wal.firstIndex - 1)) } catch {
                throw .storage(error)
            }
        }
        do { try await store.completeInstall(durable, log: wal) } catch { throw .snapshot(error) }
        replica.updateStorage { $0.install(snapshot) }
    }

    /// Step 3 for a received snapshot: the state machine takes its state.
    nonisolated(nonsending) func restoreReceivedSnapshot(_ snapshot: SnapshotMetadata) async throws(RaftNodeError) {
        let durable = try receivedSnapshot(snapshot)
        try await Self.restore(&stateMachine, from: durable.descriptor, store: store)
        appliedBytesSinceSnapshot = 0
    }

    private func receivedSnapshot(_ snapshot: SnapshotMetadata) throws(RaftNodeError) -> DurableSnapshot {
        guard let latest = store.latest, latest.lastIndex == snapshot.index, latest.term == snapshot.term else {
            throw .snapshot(.invalidArgument("no durable snapshot file for index \(snapshot.index), term \(snapshot.term)"))
        }
        return latest
    }

    // MARK: Sending

    /// Starts shipping the latest snapshot file to the follower the core asked for, unless a
    /// transfer to it is already under way (at most one per follower).
    func startSnapshotTransfer(_ message: Message) {
        let follower = message.to
        guard outgoingTransfers[follower] == nil else { return }
        guard let latest = store.latest,
            let members = ConfigurationCodec.decode(latest.descriptor.metadata)
        else {
            return replica.reportSnapshot(to: follower, succeeded: false)
        }
        let reader: SnapshotChunkReader<FS>
        do {
            reader = try store.makeChunkReader(for: latest.descriptor, chunkSize: configuration.snapshotChunkSize)
        } catch {
            logger.warning("cannot read the snapshot to send", metadata: ["error": "\(error)"])
            return replica.reportSnapshot(to: follower, succeeded: false)
        }
        var install = message
        // The file, not the core's compaction point, is what the follower gets.
        install.snapshot = SnapshotMetadata(index: latest.lastIndex, term: latest.term, configuration: members)
        outgoingTransfers[follower] = OutgoingTransfer(reader: reader, message: install, lastActivity: ticks)
        sendChunk(to: follower)
        metrics.recordSnapshotSent()
    }

    private func sendChunk(to follower: NodeID) {
        guard var transfer = outgoingTransfers[follower] else { return }
        let chunk: SnapshotChunk
        do { chunk = try transfer.reader.chunk(at: transfer.nextOffset) } catch {
            logger.warning("snapshot transfer failed", metadata: ["to": "\(follower)", "error": "\(error)"])
            return endTransfer(to: follower, succeeded: false)
        }
        transfer.lastActivity = ticks
        outgoingTransfers[follower] = transfer
        transport.send([
            .snapshotChunk(
                SnapshotChunkMessage(message: transfer.message, fileSize: transfer.reader.fileSize, chunk: chunk))
        ])
    }

    func handleSnapshotAck(_ ack: SnapshotAck) {
        guard var transfer = outgoingTransfers[ack.from], ack.term == replica.term,
            ack.snapshotIndex == transfer.message.snapshot?.index
        else { return }
        if ack.rejected { return endTransfer(to: ack.from, succeeded: false) }
        if ack.nextOffset >= transfer.reader.fileSize { return endTransfer(to: ack.from, succeeded: true) }
        transfer.nextOffset = max(0, ack.nextOffset)
        transfer.resends = 0
        outgoingTransfers[ack.from] = transfer
        sendChunk(to: ack.from)
    }

    /// Resends the current chunk of transfers that heard nothing for a while (the chunk or
    /// its acknowledgement was lost), and gives up on those that keep failing.
    func resendStalledTransfers() {
        guard !outgoingTransfers.isEmpty else { return }
        for follower in outgoingTransfers.keys.sorted() {
            guard var transfer = outgoingTransfers[follower],
                ticks - transfer.lastActivity >= UInt64(configuration.snapshotResendTicks)
            else { continue }
            transfer.resends += 1
            outgoingTransfers[follower] = transfer
            if transfer.resends > configuration.snapshotMaxResends {
                endTransfer(to: follower, succeeded: false)
            } else {
                sendChunk(to: follower)
            }
        }
    }

    private func endTransfer(to follower: NodeID, succeeded: Bool) {
        outgoingTransfers.removeValue(forKey: follower)?.reader.close()
        replica.reportSnapshot(to: follower, succeeded: succeeded)
    }

    // MARK: Receiving

    /// Writes a chunk into the temporary file of the snapshot being received. Once the file is
    /// complete and verified it is installed durably, and only then does the core see the
    /// InstallSnapshot message; the log and the state machine follow in its `Ready`.
    ///
    /// Everything in the envelope is a peer's word, so it is checked here, once, before any
    /// of it reaches the store: a chunk that is not from the leader this node follows in its
    /// current term is dropped (a stale leader gets a rejecting acknowledgement), and one
    /// whose fields no valid transfer produces is refused with a rejecting acknowledgement.
    /// Only a failure of this node's own disk stops the node.
    nonisolated(nonsending) func receiveSnapshotChunk(_ chunk: SnapshotChunkMessage) async {
        let message = chunk.message
        guard message.kind == .snapshot, let snapshot = message.snapshot else {
            return refuse(chunk, reason: "a snapshot chunk without an InstallSnapshot message")
        }
        func acknowledge(_ nextOffset: Int64, rejected: Bool = false) {
            transport.send([
                .snapshotAck(
                    SnapshotAck(
                        from: configuration.id, to: message.from, term: message.term, snapshotIndex: snapshot.index,
                        nextOffset: nextOffset, rejected: rejected))
            ])
        }
        // A stale leader's transfer is refused; the core answers its term in other messages.
        guard message.term >= replica.term else { return acknowledge(0, rejected: true) }
        // Only the leader this node follows may install a snapshot. A newer term's leader is
        // heard through its appends first; it resends the chunk after that.
        guard message.term == replica.term, replica.leader == message.from else {
            return refuse(chunk, reason: "not from the leader of the current term")
        }
        if let reason = Self.invalidity(of: chunk, maxChunkSize: store.options.maxChunkSize) {
            refuse(chunk, reason: reason)
            return acknowledge(0, rejected: true)
        }
        if let latest = store.latest, latest.lastIndex == snapshot.index, latest.term == snapshot.term {
            // Already durable: the acknowledgement was lost, or the install interrupted.
            replica.step(message)
            return acknowledge(chunk.fileSize)
        }
        if let current = incomingTransfer,
            current.index != snapshot.index || current.term != snapshot.term || current.fileSize != chunk.fileSize
        {
            // Another snapshot (or the same one taken again, as another file): start over.
            current.receiver.abort()
            incomingTransfer = nil
        }
        if incomingTransfer == nil {
            guard chunk.chunk.offset == 0 else { return acknowledge(0) }
            do throws(SnapshotError) {
                incomingTransfer = IncomingTransfer(
                    receiver: try store.makeReceiver(lastIndex: snapshot.index, term: snapshot.term),
                    index: snapshot.index, term: snapshot.term, fileSize: chunk.fileSize)
            } catch {
                if error.isLocalFailure { return stop(.snapshot(error)) }
                refuse(chunk, reason: "\(error)")
                return acknowledge(0, rejected: true)
            }
        }
        guard let receiver = incomingTransfer?.receiver else { return }
        let received: Int64
        do throws(SnapshotError) {
            received = try receiver.receive(chunk.chunk)
        } catch {
            switch error {
            case .chunkOutOfOrder, .chunkConflict, .chunkChecksumMismatch:
                return acknowledge(receiver.receivedBytes)
            default:
                if error.isLocalFailure { return stop(.snapshot(error)) }
                refuse(chunk, reason: "\(error)")
                return acknowledge(0, rejected: true)
            }
        }
        guard received >= chunk.fileSize else { return acknowledge(received) }
        incomingTransfer = nil
        do throws(SnapshotError) {
            _ = try receiver.finish()
        } catch {
            if error.isLocalFailure { return stop(.snapshot(error)) }
            logger.warning("received snapshot failed its checks", metadata: ["error": "\(error)"])
            return acknowledge(0, rejected: true)
        }
        logger.info(
            "received a snapshot from the leader; installing it",
            metadata: ["index": "\(message.snapshot?.index ?? 0)", "bytes": "\(chunk.fileSize)", "from": "\(message.from)"])
        replica.step(message)
        acknowledge(chunk.fileSize)
    }

    /// Why no valid transfer could have produced `chunk`, or nil if its fields are plausible.
    /// The snapshot must be one the log can continue after; the chunk must lie inside the
    /// file it describes and within this node's chunk limit.
    static func invalidity(of chunk: SnapshotChunkMessage, maxChunkSize: Int) -> String? {
        guard let snapshot = chunk.message.snapshot else { return "no snapshot metadata" }
        guard snapshot.index >= 1, snapshot.index <= WriteAheadLog<FS>.largestIndex else {
            return "snapshot index \(snapshot.index) is outside 1...\(WriteAheadLog<FS>.largestIndex)"
        }
        guard snapshot.term >= 1, snapshot.term <= chunk.message.term else {
            return "snapshot term \(snapshot.term) is outside 1...\(chunk.message.term) (the sender's term)"
        }
        let bytes = chunk.chunk.bytes.count
        guard bytes <= maxChunkSize else {
            return "chunk of \(bytes) bytes exceeds this node's limit of \(maxChunkSize) (SnapshotOptions.maxChunkSize)"
        }
        guard chunk.fileSize > 0 else { return "file size \(chunk.fileSize) is not positive" }
        guard chunk.chunk.offset >= 0, chunk.chunk.offset <= chunk.fileSize - Int64(bytes) else {
            return "chunk of \(bytes) bytes at offset \(chunk.chunk.offset) lies outside a file of \(chunk.fileSize) bytes"
        }
        return nil
    }

    /// Drops a peer's chunk that this node cannot use, and counts it.
    private func refuse(_ chunk: SnapshotChunkMessage, reason: String) {
        metrics.recordRefusedEnvelope()
        logger.warning(
            "refused a snapshot chunk",
            metadata: [
                "id": "\(configuration.id)", "from": "\(chunk.message.from)", "term": "\(chunk.message.term)",
                "reason": "\(reason)",
            ])
    }
}

extension SnapshotError {
    /// Whether the error is this node's own disk failing, rather than a peer's bad data.
    var isLocalFailure: Bool {
        switch self {
        case .ioFailure, .diskFull, .logFailure: true
        default: false
        }
    }
}

/// A snapshot file being shipped to one follower, one chunk at a time.
struct OutgoingTransfer<FS: FileSystem> {
    let reader: SnapshotChunkReader<FS>
    /// The InstallSnapshot message, describing the file.
    let message: Message
    var nextOffset: Int64 = 0
    /// The tick of the last chunk sent.
    var lastActivity: UInt64
    /// Resends since the follower last acknowledged progress.
    var resends = 0
}

/// A snapshot file being received from the leader.
struct IncomingTransfer<FS: FileSystem> {
    let receiver: SnapshotReceiver<FS>
    let index: UInt64
    let term: UInt64
    /// The file size the first chunk announced; a chunk announcing another is another file.
    let fileSize: Int64
}

/// Writes one snapshot file and makes it durable. Not generic over the engine, so that it can
/// run on another task without the engine's types.
nonisolated(nonsending) private func writeSnapshotFile<FS: FileSystem>(
    lastIndex: UInt64, term: UInt64, metadata: [UInt8], to store: SnapshotStore<FS>,
    contents: (inout SnapshotWriter<FS>) async throws -> Void
) async -> Result<DurableSnapshot, RaftNodeError> {
    do {
        return .success(
            try await store.write(lastIndex: lastIndex, term: term, metadata: metadata) { writer in
                var sink = writer
                try await contents(&sink)
            })
    } catch let error as SnapshotError {
        return .failure(.snapshot(error))
    } catch {
        return .failure(.stateMachineFailed("writing a snapshot: \(error)"))
    }
}
