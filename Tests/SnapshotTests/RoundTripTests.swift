import struct RaftCore.SplitMix64
import RaftSimulation
import Testing
import WAL

/// Writes snapshots and reads them back, at the sizes where block logic has edges.
@Suite struct RoundTripTests {
    private func roundTrip(_ data: [UInt8], blockSize: Int = 256, piece: Int = 100, level: Int = 1) async throws {
        let fileSystem = SimulatedFileSystem(seed: 1)
        var options = testOptions(blockSize: blockSize)
        options.compressionLevel = level
        let store = try SnapshotStore(directory: "/snap", fileSystem: fileSystem, logFirstIndex: 1, options: options)
        let metadata: [UInt8] = [1, 2, 3, 4, 5]
        let snapshot = try await writeSnapshot(store, lastIndex: 42, term: 7, data: data, metadata: metadata, piece: piece)
        #expect(snapshot.lastIndex == 42 && snapshot.term == 7)
        #expect(snapshot.descriptor.uncompressedSize == UInt64(data.count))
        #expect(snapshot.descriptor.metadata == metadata)
        #expect(store.latest?.descriptor == snapshot.descriptor)
        #expect(try await readSnapshot(store) == data)
        let reader = try store.makeReader()
        while try await reader.next() != nil {}
        #expect(try await reader.next() == nil)
        #expect(try SnapshotVerifier.verify(path: "/snap/" + snapshot.descriptor.fileName, fileSystem: fileSystem)
            == snapshot.descriptor)

        // And after reopening: the file alone carries everything.
        let reopened = try SnapshotStore(directory: "/snap", fileSystem: fileSystem, logFirstIndex: 43, options: options)
        #expect(reopened.latest?.descriptor == snapshot.descriptor)
        #expect(try await readSnapshot(reopened) == data)
    }

    @Test func empty() async throws {
        try await roundTrip([])
    }

    @Test func oneByte() async throws {
        try await roundTrip([0x42])
    }

    @Test func exactlyOneBlock() async throws {
        try await roundTrip(jsonLike(count: 256, seed: 1))
    }

    @Test func oneBlockAndOneByte() async throws {
        try await roundTrip(jsonLike(count: 257, seed: 2))
    }

    @Test func manyBlocks() async throws {
        try await roundTrip(jsonLike(count: 256 * 40 + 17, seed: 3), piece: 333)
    }

    @Test func manyBlocksWrittenInPiecesLargerThanABlock() async throws {
        try await roundTrip(jsonLike(count: 10_000, seed: 4), piece: 1000)
    }

    @Test func incompressibleDataIsStoredRaw() async throws {
        let data = randomBytes(count: 256 * 10 + 3, seed: 5)
        try await roundTrip(data)
        let fileSystem = SimulatedFileSystem(seed: 1)
        let store = try SnapshotStore(directory: "/snap", fileSystem: fileSystem, logFirstIndex: 1, options: testOptions())
        let snapshot = try await writeSnapshot(store, lastIndex: 1, data: data)
        // Raw blocks cost only their 16-byte frames: compression never made them larger.
        let overhead = snapshot.descriptor.fileSize - Int64(data.count)
        #expect(overhead == 56 + 11 * 16 + 32)
    }

    @Test func compressibleDataShrinks() async throws {
        let data = jsonLike(count: 64 << 10, seed: 6)
        let fileSystem = SimulatedFileSystem(seed: 1)
        let store = try SnapshotStore(
            directory: "/snap", fileSystem: fileSystem, logFirstIndex: 1, options: testOptions(blockSize: 16 << 10))
        let snapshot = try await writeSnapshot(store, lastIndex: 1, data: data, piece: 4096)
        #expect(snapshot.descriptor.fileSize < Int64(data.count / 3))
        #expect(try await readSnapshot(store) == data)
    }

    @Test(arguments: [0, 1, 6, 9])
    func everyCompressionLevel(level: Int) async throws {
        try await roundTrip(jsonLike(count: 3000, seed: 7), level: level)
    }

    @Test func blocksOfOneByte() async throws {
        try await roundTrip(jsonLike(count: 50, seed: 8), blockSize: 1, piece: 7)
    }

    @Test func randomSizesPiecesAndBlockSizes() async throws {
        var random = SplitMix64(seed: 2024)
        for _ in 0..<30 {
            let count = Int(random.next() % 5000)
            let data = random.next() % 3 == 0
                ? randomBytes(count: count, seed: random.next()) : jsonLike(count: count, seed: random.next())
            try await roundTrip(
                data, blockSize: 1 + Int(random.next() % 700), piece: 1 + Int(random.next() % 900),
                level: Int(random.next() % 10))
        }
    }

    @Test func workerThreadsChangeNeitherTheFileNorItsOperations() async throws {
        // Only CPU work moves to the worker threads: the same data gives the same file through
        // the same file operations with none, one or several workers, as a deterministic
        // simulation (which uses none) relies on.
        let data = jsonLike(count: 256 * 30 + 5, seed: 12)
        var files: [[UInt8]?] = []
        var operationCounts: [Int] = []
        for threads in [0, 1, 4] {
            var options = testOptions()
            options.workerThreads = threads
            options.syncInterval = 0
            let fileSystem = SimulatedFileSystem(seed: 1)
            let store = try SnapshotStore(directory: "/snap", fileSystem: fileSystem, logFirstIndex: 1, options: options)
            let before = fileSystem.mutatingOperationCount
            let snapshot = try await writeSnapshot(store, lastIndex: 4, data: data, piece: 700)
            operationCounts.append(fileSystem.mutatingOperationCount - before)
            files.append(fileSystem.contents(of: "/snap/" + snapshot.descriptor.fileName))
            #expect(try await readSnapshot(store) == data)
        }
        #expect(files[0] != nil && files.allSatisfy { $0 == files[0] })
        #expect(operationCounts.allSatisfy { $0 == operationCounts[0] })
    }

    @Test func contentsFromAnAsyncSequence() async throws {
        let data = jsonLike(count: 5000, seed: 9)
        let pieces = stride(from: 0, to: data.count, by: 300).map { Array(data[$0..<min(data.count, $0 + 300)]) }
        let stream = AsyncStream<[UInt8]> { continuation in
            for piece in pieces { continuation.yield(piece) }
            continuation.finish()
        }
        let fileSystem = SimulatedFileSystem(seed: 1)
        let store = try SnapshotStore(directory: "/snap", fileSystem: fileSystem, logFirstIndex: 1, options: testOptions())
        let snapshot = try await store.write(lastIndex: 9, term: 2, contents: stream)
        #expect(snapshot.descriptor.uncompressedSize == 5000)
        var bytes: [UInt8] = []
        for try await block in try store.makeReader() { bytes += block }
        #expect(bytes == data)
    }

    @Test func realFileSystemRoundTrip() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let data = jsonLike(count: 100_000, seed: 10)
        let options = testOptions(blockSize: 8192)
        let store = try SnapshotStore(
            directory: directory.path + "/snapshots", fileSystem: PosixFileSystem(), logFirstIndex: 1, options: options)
        let snapshot = try await writeSnapshot(store, lastIndex: 100, term: 3, data: data, piece: 5000)
        #expect(try await readSnapshot(store) == data)
        let reopened = try SnapshotStore(
            directory: directory.path + "/snapshots", fileSystem: PosixFileSystem(), logFirstIndex: 101, options: options)
        #expect(reopened.latest?.descriptor == snapshot.descriptor)
        #expect(try await readSnapshot(reopened) == data)
    }

    @Test func aFailingBodyLeavesNoFileAndTheOldSnapshotInForce() async throws {
        struct Stop: Error {}
        let fileSystem = SimulatedFileSystem(seed: 1)
        let store = try SnapshotStore(directory: "/snap", fileSystem: fileSystem, logFirstIndex: 1, options: testOptions())
        let old = try await writeSnapshot(store, lastIndex: 5, data: jsonLike(count: 1000, seed: 1))
        await #expect(throws: Stop.self) {
            try await store.write(lastIndex: 9, term: 1) { writer in
                try await writer.write(jsonLike(count: 2000, seed: 2))
                throw Stop()
            }
        }
        #expect(try fileSystem.contentsOfDirectory("/snap") == [old.descriptor.fileName])
        #expect(store.latest?.descriptor == old.descriptor)
    }

    @Test func aWriteErrorIsTypedAndLeavesTheOldSnapshotInForce() async throws {
        let fileSystem = SimulatedFileSystem(seed: 1)
        let store = try SnapshotStore(directory: "/snap", fileSystem: fileSystem, logFirstIndex: 1, options: testOptions())
        let old = try await writeSnapshot(store, lastIndex: 5, data: jsonLike(count: 1000, seed: 1))
        fileSystem.limitSpace(to: 300)
        do {
            _ = try await writeSnapshot(store, lastIndex: 9, data: randomBytes(count: 3000, seed: 2))
            Issue.record("a full disk must fail the write")
        } catch let error as SnapshotError {
            guard case .diskFull = error else {
                Issue.record("expected diskFull, got \(error)")
                return
            }
        }
        fileSystem.limitSpace(to: nil)
        fileSystem.failNextSync()
        await #expect(throws: SnapshotError.self) {
            try await writeSnapshot(store, lastIndex: 9, data: jsonLike(count: 3000, seed: 2))
        }
        #expect(try fileSystem.contentsOfDirectory("/snap") == [old.descriptor.fileName])
        #expect(store.latest?.descriptor == old.descriptor)
    }

    @Test func backgroundSyncsWhileWriting() async throws {
        let data = jsonLike(count: 20_000, seed: 11)
        var options = testOptions()
        options.syncInterval = 64
        let fileSystem = SimulatedFileSystem(seed: 1)
        let store = try SnapshotStore(directory: "/snap", fileSystem: fileSystem, logFirstIndex: 1, options: options)
        let syncsBefore = fileSystem.syncCount
        _ = try await writeSnapshot(store, lastIndex: 3, data: data)
        #expect(fileSystem.syncCount > syncsBefore + 1)
        #expect(try await readSnapshot(store) == data)

        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let posix = try SnapshotStore(directory: directory.path, fileSystem: PosixFileSystem(), logFirstIndex: 1, options: options)
        _ = try await writeSnapshot(posix, lastIndex: 3, data: data)
        #expect(try await readSnapshot(posix) == data)
    }

    @Test func aFailedBackgroundSyncFailsTheWrite() async throws {
        var options = testOptions()
        options.syncInterval = 64
        let fileSystem = SimulatedFileSystem(seed: 1)
        let store = try SnapshotStore(directory: "/snap", fileSystem: fileSystem, logFirstIndex: 1, options: options)
        let old = try await writeSnapshot(store, lastIndex: 3, data: [1, 2, 3])
        for _ in 0..<5 {
            fileSystem.failNextSync()
            await #expect(throws: SnapshotError.self) {
                try await writeSnapshot(store, lastIndex: 9, data: jsonLike(count: 5000, seed: 1))
            }
            #expect(try fileSystem.contentsOfDirectory("/snap") == [old.descriptor.fileName])
        }
    }

    @Test func aSnapshotOlderThanTheOneInForceIsRejected() async throws {
        let fileSystem = SimulatedFileSystem(seed: 1)
        let store = try SnapshotStore(directory: "/snap", fileSystem: fileSystem, logFirstIndex: 1, options: testOptions())
        _ = try await writeSnapshot(store, lastIndex: 50, term: 3, data: [1, 2, 3])
        await #expect(throws: SnapshotError.staleSnapshot(lastIndex: 40, term: 3, inForceIndex: 50)) {
            try await writeSnapshot(store, lastIndex: 40, term: 3, data: [1])
        }
        #expect(throws: SnapshotError.self) { try store.makeReceiver(lastIndex: 50, term: 2) }
    }

    @Test func invalidOptionsAndOversizedMetadataAreRejected() async throws {
        let fileSystem = SimulatedFileSystem(seed: 1)
        var options = testOptions()
        options.blockSize = 0
        #expect(throws: SnapshotError.self) {
            try SnapshotStore(directory: "/snap", fileSystem: fileSystem, logFirstIndex: 1, options: options)
        }
        options = testOptions()
        options.maxMetadataSize = 10
        let store = try SnapshotStore(directory: "/snap", fileSystem: fileSystem, logFirstIndex: 1, options: options)
        await #expect(throws: SnapshotError.self) {
            try await writeSnapshot(store, lastIndex: 1, data: [1], metadata: [UInt8](repeating: 0, count: 11))
        }
        await #expect(throws: SnapshotError.self) { try await writeSnapshot(store, lastIndex: .max, data: [1]) }
        #expect(throws: SnapshotError.self) { try store.makeReceiver(lastIndex: .max, term: 1) }
        let snapshot = try await writeSnapshot(store, lastIndex: 1, data: [1])
        #expect(throws: SnapshotError.self) { try store.makeChunkReader(for: snapshot.descriptor, chunkSize: 0) }
        #expect(throws: SnapshotError.self) { try store.makeChunkReader(for: snapshot.descriptor, chunkSize: 4097) }
    }
}

/// The API is usable from an actor: writers, readers and closures stay on the caller's actor
/// (this suite compiles only if no non-Sendable value has to cross an isolation boundary).
@MainActor @Suite struct ActorIsolatedUseTests {
    @Test func writeReadAndInstallFromTheMainActor() async throws {
        let fileSystem = SimulatedFileSystem(seed: 1)
        let store = try SnapshotStore(directory: "/snap", fileSystem: fileSystem, logFirstIndex: 1, options: testOptions())
        let data = jsonLike(count: 3000, seed: 1)
        let snapshot = try await store.write(lastIndex: 4, term: 1) { writer in try await writer.write(data) }
        try await store.completeInstall(snapshot) {}
        let reader = try store.makeReader()
        var bytes: [UInt8] = []
        while let block = try await reader.next() { bytes += block }
        #expect(bytes == data)
        var again: [UInt8] = []
        for try await block in try store.makeReader() { again += block }
        #expect(again == data)
    }
}
