import RaftSimulation
import Testing
import WAL

/// Opening a store: which snapshot is in force, what happens to damaged and temporary
/// files, and when opening must refuse.
@Suite struct RecoveryTests {
    private func makeStore(
        _ disk: SimulatedFileSystem, logFirstIndex: UInt64 = 1, retainedCount: Int = 2
    ) throws -> SnapshotStore<SimulatedFileSystem> {
        try SnapshotStore(
            directory: "/snap", fileSystem: disk, logFirstIndex: logFirstIndex,
            options: testOptions(retainedCount: retainedCount))
    }

    @Test func anEmptyDirectoryHasNoSnapshotAndNeedsTheWholeLog() async throws {
        let disk = SimulatedFileSystem(seed: 1)
        #expect(try makeStore(disk).latest == nil)
        #expect(throws: SnapshotError.self) { try makeStore(disk, logFirstIndex: 2) }
    }

    @Test func theNewestValidSnapshotIsInForce() async throws {
        let disk = SimulatedFileSystem(seed: 1)
        let store = try makeStore(disk, retainedCount: 5)
        for index: UInt64 in [3, 6, 9] {
            _ = try await writeSnapshot(store, lastIndex: index, term: 1, data: jsonLike(count: 500, seed: index))
        }
        _ = try await writeSnapshot(store, lastIndex: 9, term: 2, data: jsonLike(count: 500, seed: 92))
        let reopened = try makeStore(disk, logFirstIndex: 10)
        #expect(reopened.latest?.lastIndex == 9 && reopened.latest?.term == 2)
        #expect(try await readSnapshot(reopened) == jsonLike(count: 500, seed: 92))
    }

    @Test func aCorruptNewestSnapshotFallsBackToAnOlderOneWhenTheLogCoversTheGap() async throws {
        let disk = SimulatedFileSystem(seed: 1)
        let store = try makeStore(disk)
        let old = try await writeSnapshot(store, lastIndex: 10, data: jsonLike(count: 900, seed: 10))
        let new = try await writeSnapshot(store, lastIndex: 20, data: jsonLike(count: 900, seed: 20))
        disk.flipBit(path: "/snap/" + new.descriptor.fileName, offset: 100)

        // The log still starts at 11 (the install was never recorded): the older snapshot
        // and the log together reach everything.
        let reopened = try makeStore(disk, logFirstIndex: 11)
        #expect(reopened.latest?.descriptor == old.descriptor)
        #expect(reopened.recoveryReport.inForce == old.descriptor)
        guard case .corruption(let file, .block(0), _, _)? = reopened.recoveryReport.corrupt.first else {
            Issue.record("the corruption must be reported: \(reopened.recoveryReport)")
            return
        }
        #expect(file == "/snap/" + new.descriptor.fileName)
        #expect(try disk.contentsOfDirectory("/snap") == [old.descriptor.fileName, new.descriptor.fileName + ".corrupt"])
        #expect(try await readSnapshot(reopened) == jsonLike(count: 900, seed: 10))
    }

    @Test func aCorruptNewestSnapshotIsFatalWhenTheLogNoLongerCoversTheGap() async throws {
        let disk = SimulatedFileSystem(seed: 1)
        let store = try makeStore(disk)
        _ = try await writeSnapshot(store, lastIndex: 10, data: jsonLike(count: 900, seed: 10))
        let new = try await writeSnapshot(store, lastIndex: 20, data: jsonLike(count: 900, seed: 20))
        disk.flipBit(path: "/snap/" + new.descriptor.fileName, offset: 3)
        let before = try disk.contentsOfDirectory("/snap")
        do {
            _ = try makeStore(disk, logFirstIndex: 21)
            Issue.record("opening must fail: starting from index 10 would lose 11...20")
        } catch let error as SnapshotError {
            guard case .noUsableSnapshot(_, let corrupt) = error else {
                Issue.record("expected noUsableSnapshot, got \(error)")
                return
            }
            #expect(corrupt == ["/snap/" + new.descriptor.fileName])
        }
        // Nothing was changed: an operator (or a peer) must repair it.
        #expect(try disk.contentsOfDirectory("/snap") == before)
    }

    @Test func aCorruptOnlySnapshotIsFatalUnlessTheLogStartsAtOne() async throws {
        let disk = SimulatedFileSystem(seed: 1)
        let store = try makeStore(disk)
        let only = try await writeSnapshot(store, lastIndex: 10, data: jsonLike(count: 900, seed: 10))
        disk.flipBit(path: "/snap/" + only.descriptor.fileName, offset: 20)
        #expect(throws: SnapshotError.self) { try makeStore(disk, logFirstIndex: 11) }
        let reopened = try makeStore(disk, logFirstIndex: 1)
        #expect(reopened.latest == nil)
        #expect(reopened.recoveryReport.corrupt.count == 1)
    }

    @Test func aSnapshotWhoseNameDisagreesWithItsHeaderIsCorrupt() async throws {
        let disk = SimulatedFileSystem(seed: 1)
        let store = try makeStore(disk)
        let snapshot = try await writeSnapshot(store, lastIndex: 10, data: [1, 2, 3])
        try disk.rename("/snap/" + snapshot.descriptor.fileName, to: "/snap/snapshot-00000000000000000011-00000000000000000001.snap")
        #expect(throws: SnapshotError.self) { try makeStore(disk, logFirstIndex: 11) }
    }

    @Test func retentionKeepsTheConfiguredNumberAndOnlyAfterTheLogIsTruncated() async throws {
        let disk = SimulatedFileSystem(seed: 1)
        let log = try WriteAheadLog(directory: "/wal", fileSystem: disk, options: walOptions())
        for index in UInt64(1)...30 { try await log.append([LogEntry(index: index, term: 1, payload: [1])]) }
        let store = try makeStore(disk, retainedCount: 2)
        var installed: [DurableSnapshot] = []
        for index: UInt64 in [5, 10, 15, 20] {
            let snapshot = try await writeSnapshot(store, lastIndex: index, data: jsonLike(count: 300, seed: index))
            // Durable, not yet recorded: every older snapshot is still there.
            #expect(try disk.contentsOfDirectory("/snap").count == min(installed.count, 2) + 1)
            try await store.completeInstall(snapshot, log: log)
            #expect(log.firstIndex == index + 1)
            installed.append(snapshot)
            let expected = installed.suffix(2).map(\.descriptor.fileName)
            #expect(try disk.contentsOfDirectory("/snap") == expected)
        }
        await log.close()
    }

    @Test func aFailedLogTruncationKeepsEveryOlderSnapshot() async throws {
        let disk = SimulatedFileSystem(seed: 1)
        let store = try makeStore(disk, retainedCount: 1)
        let old = try await writeSnapshot(store, lastIndex: 5, data: [1])
        let new = try await writeSnapshot(store, lastIndex: 9, data: [2])
        struct RecordFailed: Error {}
        await #expect(throws: RecordFailed.self) {
            try await store.completeInstall(new) { throw RecordFailed() }
        }
        #expect(try disk.contentsOfDirectory("/snap") == [old.descriptor.fileName, new.descriptor.fileName])
        try await store.completeInstall(new) {}
        #expect(try disk.contentsOfDirectory("/snap") == [new.descriptor.fileName])
    }

    @Test func temporaryFilesAndUnknownFilesOnOpen() async throws {
        let disk = SimulatedFileSystem(seed: 1)
        try disk.createDirectory("/snap")
        for name in ["snapshot-00000000000000000007-00000000000000000001.snap.1234.tmp", "notes.txt", "snapshot-7.snap"] {
            let file = try disk.openFile("/snap/" + name, mode: .createNew)
            try [UInt8]([1, 2, 3]).withUnsafeBytes { try disk.write(to: file, at: 0, from: $0) }
            disk.closeFile(file)
        }
        let store = try makeStore(disk)
        #expect(store.latest == nil)
        #expect(store.recoveryReport.removedTemporaryFiles == ["snapshot-00000000000000000007-00000000000000000001.snap.1234.tmp"])
        #expect(try disk.contentsOfDirectory("/snap") == ["notes.txt", "snapshot-7.snap"])
    }

    @Test func verifyAllReportsEachFile() async throws {
        let disk = SimulatedFileSystem(seed: 1)
        let store = try makeStore(disk, retainedCount: 3)
        let good = try await writeSnapshot(store, lastIndex: 5, data: jsonLike(count: 2000, seed: 5))
        let bad = try await writeSnapshot(store, lastIndex: 8, data: jsonLike(count: 2000, seed: 8))
        disk.flipBit(path: "/snap/" + bad.descriptor.fileName, offset: Int(bad.descriptor.fileSize) - 40)
        let results = try SnapshotStore.verifyAll(directory: "/snap", fileSystem: disk)
        #expect(results.count == 2)
        #expect(results[0].file == "/snap/" + good.descriptor.fileName)
        #expect(try results[0].result.get() == good.descriptor)
        guard case .failure(.corruption(_, .block, _, _)) = results[1].result else {
            Issue.record("expected a damaged block: \(results[1].result)")
            return
        }
    }
}
