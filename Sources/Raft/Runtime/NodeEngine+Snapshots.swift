import RaftCore
import WAL

extension NodeEngine {
    // MARK: Taking snapshots

    /// Takes a snapshot when enough was applied since the last one.
    nonisolated(nonsending) func snapshotIfDue() async {
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
    nonisolated(nonsending) func takeSnapshot() async {
        let index = replica.appliedIndex
        guard index > replica.storage.snapshot.index, let term = replica.storage.term(at: index) else { return }
        if let latest = store.latest, latest.lastIndex >= index { return }
        let configuration = replica.configuration
        let started = ContinuousClock.now
        let durable: DurableSnapshot
        do {
            durable = try await store.write(
                lastIndex: index, term: term, metadata: ConfigurationCodec.encode(configuration)
            ) { writer in
                var sink = writer
                try await stateMachine.writeSnapshot(to: &sink)
            }
            try await store.completeInstall(durable, log: wal)
        } catch let error as SnapshotError {
            return stop(.snapshot(error))
        } catch {
            return stop(.stateMachineFailed("writing a snapshot: \(error)"))
        }
        replica.updateStorage { $0.compact(through: index, configuration: configuration) }
        appliedBytesSinceSnapshot = 0
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
    nonisolated(nonsending) func receiveSnapshotChunk(_ chunk: SnapshotChunkMessage) async {
        let message = chunk.message
        guard let snapshot = message.snapshot else { return }
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
        if let latest = store.latest, latest.lastIndex == snapshot.index, latest.term == snapshot.term {
            // Already durable: the acknowledgement was lost, or the install interrupted.
            replica.step(message)
            return acknowledge(chunk.fileSize)
        }
        if let current = incomingTransfer, current.index != snapshot.index || current.term != snapshot.term {
            guard chunk.chunk.offset == 0 else { return acknowledge(0) }
            current.receiver.abort()
            incomingTransfer = nil
        }
        if incomingTransfer == nil {
            guard chunk.chunk.offset == 0 else { return acknowledge(0) }
            do throws(SnapshotError) {
                incomingTransfer = IncomingTransfer(
                    receiver: try store.makeReceiver(lastIndex: snapshot.index, term: snapshot.term),
                    index: snapshot.index, term: snapshot.term)
            } catch {
                if case .staleSnapshot = error { return acknowledge(0, rejected: true) }
                return stop(.snapshot(error))
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
                return stop(.snapshot(error))
            }
        }
        guard received >= chunk.fileSize else { return acknowledge(received) }
        incomingTransfer = nil
        do throws(SnapshotError) {
            _ = try receiver.finish()
        } catch {
            guard case .corruption = error else { return stop(.snapshot(error)) }
            logger.warning("received snapshot failed its checks", metadata: ["error": "\(error)"])
            return acknowledge(0, rejected: true)
        }
        replica.step(message)
        acknowledge(chunk.fileSize)
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
}
