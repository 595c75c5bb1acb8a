import RaftSimulation
import Testing
import WAL

/// Ships a snapshot's stored bytes chunk by chunk from a leader's store to a follower's,
/// with chunks lost, repeated, reordered, damaged, and a sender that restarts.
@Suite struct ReceiverTests {
    private struct Transfer {
        let leader: SnapshotStore<SimulatedFileSystem>
        let follower: SnapshotStore<SimulatedFileSystem>
        let followerDisk: SimulatedFileSystem
        let snapshot: DurableSnapshot
        let data: [UInt8]

        static func make(size: Int = 3000) async throws -> Transfer {
            let leader = try SnapshotStore(
                directory: "/leader", fileSystem: SimulatedFileSystem(seed: 1), logFirstIndex: 1, options: testOptions())
            let data = jsonLike(count: size / 2, seed: 1) + randomBytes(count: size / 2, seed: 2)
            let snapshot = try await writeSnapshot(leader, lastIndex: 77, term: 4, data: data, metadata: [1, 2])
            let disk = SimulatedFileSystem(seed: 2)
            let follower = try SnapshotStore(directory: "/follower", fileSystem: disk, logFirstIndex: 1, options: testOptions())
            return Transfer(leader: leader, follower: follower, followerDisk: disk, snapshot: snapshot, data: data)
        }

        func chunks(size: Int = 200) throws -> [SnapshotChunk] {
            try allChunks(leader, snapshot.descriptor, chunkSize: size)
        }

        func expectInstalled(_ durable: DurableSnapshot) async throws {
            #expect(durable.descriptor == snapshot.descriptor)
            #expect(follower.latest?.descriptor == snapshot.descriptor)
            #expect(try await readSnapshot(follower) == data)
            #expect(try followerDisk.contentsOfDirectory("/follower") == [snapshot.descriptor.fileName])
        }
    }

    @Test func inOrderChunksInstallTheSnapshot() async throws {
        let transfer = try await Transfer.make()
        let receiver = try transfer.follower.makeReceiver(lastIndex: 77, term: 4)
        let chunks = try transfer.chunks()
        #expect(chunks.count > 5 && chunks.last!.isLast && !chunks[0].isLast)
        for chunk in chunks { try receiver.receive(chunk) }
        #expect(receiver.receivedBytes == transfer.snapshot.descriptor.fileSize)
        try await transfer.expectInstalled(try receiver.finish())
    }

    @Test func duplicatedChunksAreIdempotent() async throws {
        let transfer = try await Transfer.make()
        let receiver = try transfer.follower.makeReceiver(lastIndex: 77, term: 4)
        let chunks = try transfer.chunks()
        for (position, chunk) in chunks.enumerated() {
            try receiver.receive(chunk)
            try receiver.receive(chunk)
            if position > 0 { try receiver.receive(chunks[position - 1]) }
        }
        try await transfer.expectInstalled(try receiver.finish())
    }

    @Test func anOutOfOrderChunkIsRejectedAndChangesNothing() async throws {
        let transfer = try await Transfer.make()
        let receiver = try transfer.follower.makeReceiver(lastIndex: 77, term: 4)
        let chunks = try transfer.chunks()
        try receiver.receive(chunks[0])
        #expect(throws: SnapshotError.chunkOutOfOrder(expectedOffset: 200, offset: 400)) {
            try receiver.receive(chunks[2])
        }
        #expect(receiver.receivedBytes == 200)
        for chunk in chunks.dropFirst() { try receiver.receive(chunk) }
        try await transfer.expectInstalled(try receiver.finish())
    }

    @Test func aMissingChunkFailsFinishAndLeavesNoTrace() async throws {
        let transfer = try await Transfer.make()
        let receiver = try transfer.follower.makeReceiver(lastIndex: 77, term: 4)
        let chunks = try transfer.chunks()
        // The tail is missing: the sender stopped early.
        for chunk in chunks.dropLast() { try receiver.receive(chunk) }
        #expect(throws: SnapshotError.self) { try receiver.finish() }
        #expect(try transfer.followerDisk.contentsOfDirectory("/follower").isEmpty)
        #expect(transfer.follower.latest == nil)
        #expect(throws: SnapshotError.closed) { try receiver.receive(chunks.last!) }
    }

    @Test func overlappingChunksWithTheSameBytesAreAcceptedAndDifferentOnesRejected() async throws {
        let transfer = try await Transfer.make()
        let receiver = try transfer.follower.makeReceiver(lastIndex: 77, term: 4)
        let fine = try transfer.chunks(size: 300)
        let coarse = try transfer.chunks(size: 700)
        try receiver.receive(fine[0])
        try receiver.receive(fine[1])
        // Starts inside what was received and runs past it: the overlap matches, the rest is new.
        try receiver.receive(coarse[0])
        #expect(receiver.receivedBytes == 700)
        var altered = coarse[1]
        altered.bytes[0] ^= 0xFF
        altered = SnapshotChunk(offset: 100, bytes: Array(altered.bytes.prefix(650)))
        #expect(throws: SnapshotError.chunkConflict(offset: 100)) { try receiver.receive(altered) }
        #expect(receiver.receivedBytes == 700)
        for chunk in coarse.dropFirst() { try receiver.receive(chunk) }
        try await transfer.expectInstalled(try receiver.finish())
    }

    @Test func aChunkWithAWrongChecksumIsRejected() async throws {
        let transfer = try await Transfer.make()
        let receiver = try transfer.follower.makeReceiver(lastIndex: 77, term: 4)
        let chunks = try transfer.chunks()
        try receiver.receive(chunks[0])
        var damaged = chunks[1]
        damaged.bytes[17] ^= 0x04
        #expect(throws: SnapshotError.chunkChecksumMismatch(offset: 200)) { try receiver.receive(damaged) }
        let wrongChecksum = SnapshotChunk(
            offset: chunks[1].offset, bytes: chunks[1].bytes, checksum: chunks[1].checksum ^ 1, isLast: false)
        #expect(throws: SnapshotError.chunkChecksumMismatch(offset: 200)) { try receiver.receive(wrongChecksum) }
        #expect(receiver.receivedBytes == 200)
        for chunk in chunks.dropFirst() { try receiver.receive(chunk) }
        try await transfer.expectInstalled(try receiver.finish())
    }

    @Test func bytesDamagedAtTheSenderFailFinishOnTheBlockCRC() async throws {
        let transfer = try await Transfer.make()
        let receiver = try transfer.follower.makeReceiver(lastIndex: 77, term: 4)
        for var chunk in try transfer.chunks() {
            if chunk.offset == 400 {
                // Damaged before the chunk CRC was computed, so only the block CRC can tell.
                chunk.bytes[5] ^= 0x10
                chunk = SnapshotChunk(offset: chunk.offset, bytes: chunk.bytes, isLast: chunk.isLast)
            }
            try receiver.receive(chunk)
        }
        do {
            _ = try receiver.finish()
            Issue.record("a damaged block must fail finish")
        } catch {
            guard case .corruption(_, .block, _, _) = error else {
                Issue.record("expected block corruption, got \(error)")
                return
            }
        }
        #expect(try transfer.followerDisk.contentsOfDirectory("/follower").isEmpty)
        #expect(transfer.follower.latest == nil)
    }

    @Test func theSenderRestartsMidTransfer() async throws {
        let transfer = try await Transfer.make()
        let receiver = try transfer.follower.makeReceiver(lastIndex: 77, term: 4)
        let first = try transfer.chunks(size: 250)
        for chunk in first.prefix(5) { try receiver.receive(chunk) }
        // The leader restarts and ships again from the beginning, with another chunk size.
        for chunk in try transfer.chunks(size: 400) { try receiver.receive(chunk) }
        try await transfer.expectInstalled(try receiver.finish())
    }

    @Test func theSenderRestartsAndResumesFromTheReceivedOffset() async throws {
        let transfer = try await Transfer.make()
        let receiver = try transfer.follower.makeReceiver(lastIndex: 77, term: 4)
        for chunk in try transfer.chunks(size: 256).prefix(3) { try receiver.receive(chunk) }
        let reader = try transfer.leader.makeChunkReader(for: transfer.snapshot.descriptor, chunkSize: 333)
        var offset = receiver.receivedBytes
        while offset < reader.fileSize {
            offset = try receiver.receive(try reader.chunk(at: offset))
        }
        try await transfer.expectInstalled(try receiver.finish())
    }

    @Test func aReceivedSnapshotOtherThanTheExpectedOneIsRejected() async throws {
        let transfer = try await Transfer.make()
        let receiver = try transfer.follower.makeReceiver(lastIndex: 78, term: 4)
        for chunk in try transfer.chunks() { try receiver.receive(chunk) }
        #expect(throws: SnapshotError.snapshotMismatch(expectedIndex: 78, expectedTerm: 4, foundIndex: 77, foundTerm: 4)) {
            try receiver.finish()
        }
        #expect(try transfer.followerDisk.contentsOfDirectory("/follower").isEmpty)
    }

    @Test func anAbortedReceiveLeavesNothing() async throws {
        let transfer = try await Transfer.make()
        let receiver = try transfer.follower.makeReceiver(lastIndex: 77, term: 4)
        for chunk in try transfer.chunks().prefix(4) { try receiver.receive(chunk) }
        receiver.abort()
        #expect(try transfer.followerDisk.contentsOfDirectory("/follower").isEmpty)
    }

    @Test func aCrashMidReceiveLeavesOnlyATemporaryFileThatTheNextOpenRemoves() async throws {
        let transfer = try await Transfer.make()
        let receiver = try transfer.follower.makeReceiver(lastIndex: 77, term: 4)
        for chunk in try transfer.chunks().prefix(6) { try receiver.receive(chunk) }
        transfer.followerDisk.crash()
        let names = try transfer.followerDisk.contentsOfDirectory("/follower")
        #expect(names.allSatisfy { $0.hasSuffix(".tmp") })
        let reopened = try SnapshotStore(
            directory: "/follower", fileSystem: transfer.followerDisk, logFirstIndex: 1, options: testOptions())
        #expect(reopened.latest == nil)
        #expect(reopened.recoveryReport.removedTemporaryFiles == names)
        #expect(try transfer.followerDisk.contentsOfDirectory("/follower").isEmpty)
    }

    @Test func oversizedAndNegativeChunksAreRejected() async throws {
        let transfer = try await Transfer.make()
        let receiver = try transfer.follower.makeReceiver(lastIndex: 77, term: 4)
        #expect(throws: SnapshotError.self) { try receiver.receive(SnapshotChunk(offset: 0, bytes: [UInt8](repeating: 0, count: 4097))) }
        #expect(throws: SnapshotError.self) { try receiver.receive(SnapshotChunk(offset: -1, bytes: [1])) }
        let reader = try transfer.leader.makeChunkReader(for: transfer.snapshot.descriptor, chunkSize: 100)
        #expect(throws: SnapshotError.self) { try reader.chunk(at: reader.fileSize) }
        #expect(throws: SnapshotError.self) { try reader.chunk(at: -5) }
    }
}
