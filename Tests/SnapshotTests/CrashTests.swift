import struct RaftCore.SplitMix64
import RaftSimulation
import Testing
import WAL

/// Cuts the power at every step of writing, receiving, installing and retiring snapshots,
/// crashes the simulated disk (which keeps, tears or loses every unsynced write and
/// directory change), and checks what recovery finds: the old snapshot or the new one is in
/// force, never neither and never a damaged one, its bytes are exactly what was written, and
/// the log still reaches it.
@Suite struct CrashTests {
    static let seedsPerStep: UInt64 = 8

    private static let snapshotDirectory = "/node/snapshots"
    private static let logDirectory = "/node/wal"

    /// The data of the snapshot at `index`.
    private static func data(at index: UInt64) -> [UInt8] {
        jsonLike(count: 900, seed: index) + randomBytes(count: 300, seed: index)
    }

    /// A node with a log of entries 1...40 and snapshots at 5 and 10 (the log truncated
    /// through 10), all durable.
    private static func prepareNode(
        seed: UInt64
    ) async throws -> (SimulatedFileSystem, WriteAheadLog<SimulatedFileSystem>, SnapshotStore<SimulatedFileSystem>) {
        let disk = SimulatedFileSystem(seed: seed)
        let log = try WriteAheadLog(directory: logDirectory, fileSystem: disk, options: walOptions())
        for index in UInt64(1)...40 {
            try await log.append([LogEntry(index: index, term: 1, payload: [UInt8](repeating: UInt8(index), count: 20))])
        }
        let store = try SnapshotStore(
            directory: snapshotDirectory, fileSystem: disk, logFirstIndex: log.firstIndex, options: testOptions())
        for index: UInt64 in [5, 10] {
            let snapshot = try await writeSnapshot(store, lastIndex: index, data: data(at: index))
            try await store.completeInstall(snapshot, log: log)
        }
        return (disk, log, store)
    }

    /// Recovers the node after a crash and checks the invariants. Returns the index of the
    /// snapshot in force.
    @discardableResult
    private static func recoverAndCheck(
        disk: SimulatedFileSystem, old: UInt64, new: UInt64, completed: Bool, context: String
    ) async throws -> UInt64 {
        disk.crash()
        let log = try WriteAheadLog(directory: logDirectory, fileSystem: disk, options: walOptions())
        let (firstIndex, lastIndex) = (log.firstIndex, log.lastIndex)
        let store: SnapshotStore<SimulatedFileSystem>
        do {
            store = try SnapshotStore(
                directory: snapshotDirectory, fileSystem: disk, logFirstIndex: firstIndex, options: testOptions())
        } catch {
            Issue.record("recovery failed (\(context)): \(error)")
            await log.close()
            return 0
        }
        guard let durable = store.latest else {
            Issue.record("no snapshot in force (\(context))")
            await log.close()
            return 0
        }
        let inForce = durable.descriptor
        #expect(inForce.lastIndex == old || inForce.lastIndex == new, "in force: \(inForce) (\(context))")
        if completed { #expect(inForce.lastIndex == new, "an acknowledged install was lost (\(context))") }
        #expect(firstIndex <= inForce.lastIndex + 1, "the log was truncated past the snapshot (\(context))")
        #expect(lastIndex == 40, "(\(context))")
        #expect(try await readSnapshot(store) == data(at: inForce.lastIndex), "(\(context))")
        #expect(store.recoveryReport.corrupt.isEmpty, "(\(context))")
        #expect(!(try disk.contentsOfDirectory(snapshotDirectory)).contains { $0.hasSuffix(".tmp") }, "(\(context))")
        // Finishing an install the crash interrupted records it and retires older snapshots.
        try await store.completeInstall(durable, log: log)
        #expect(log.firstIndex == inForce.lastIndex + 1, "(\(context))")
        #expect(try disk.contentsOfDirectory(snapshotDirectory).count == 2, "(\(context))")
        await log.close()
        return inForce.lastIndex
    }

    @Test func crashAtEveryStepOfWriteInstallAndRetention() async throws {
        var step = 0
        var finishedWithoutCrash = false
        while !finishedWithoutCrash {
            for seed in 0..<Self.seedsPerStep {
                let (disk, log, store) = try await Self.prepareNode(seed: seed &* 1000 &+ UInt64(step))
                disk.cutPower(afterOperations: step)
                var completed = false
                do {
                    let snapshot = try await writeSnapshot(store, lastIndex: 20, data: Self.data(at: 20))
                    try await store.completeInstall(snapshot, log: log)
                    completed = true
                } catch {}
                await log.close()
                try await Self.recoverAndCheck(disk: disk, old: 10, new: 20, completed: completed, context: "step \(step), seed \(seed)")
                if completed { finishedWithoutCrash = true }
            }
            step += 1
        }
        // Creating, writing, syncing, renaming, truncating the log and retiring: many steps.
        #expect(step > 15)
    }

    @Test func crashAtEveryStepOfReceiveInstallAndRetention() async throws {
        let leader = try SnapshotStore(
            directory: "/leader", fileSystem: SimulatedFileSystem(seed: 7), logFirstIndex: 1, options: testOptions())
        let shipped = try await writeSnapshot(leader, lastIndex: 20, data: Self.data(at: 20))
        let chunks = try allChunks(leader, shipped.descriptor, chunkSize: 300)
        var step = 0
        var finishedWithoutCrash = false
        while !finishedWithoutCrash {
            for seed in 0..<Self.seedsPerStep {
                let (disk, log, store) = try await Self.prepareNode(seed: seed &* 1000 &+ UInt64(step))
                disk.cutPower(afterOperations: step)
                var completed = false
                do {
                    let receiver = try store.makeReceiver(lastIndex: 20, term: 1)
                    for chunk in chunks { try receiver.receive(chunk) }
                    let snapshot = try receiver.finish()
                    try await store.completeInstall(snapshot, log: log)
                    completed = true
                } catch {}
                await log.close()
                try await Self.recoverAndCheck(disk: disk, old: 10, new: 20, completed: completed, context: "step \(step), seed \(seed)")
                if completed { finishedWithoutCrash = true }
            }
            step += 1
        }
        #expect(step > 10)
    }

    @Test func crashesRepeatedAcrossSeveralInstalls() async throws {
        // Crash, recover, and install again, many times over: retention and recovery keep the
        // store at most `retainedCount` snapshots plus the one being written.
        for seed in UInt64(0)..<20 {
            var random = SplitMix64(seed: seed)
            let (disk, firstLog, _) = try await Self.prepareNode(seed: seed)
            await firstLog.close()
            var inForce: UInt64 = 10
            for round in 0..<4 {
                disk.crash()
                let log = try WriteAheadLog(directory: Self.logDirectory, fileSystem: disk, options: walOptions())
                let store = try SnapshotStore(
                    directory: Self.snapshotDirectory, fileSystem: disk, logFirstIndex: log.firstIndex,
                    options: testOptions())
                #expect(store.latest?.lastIndex == inForce)
                let next = inForce + 1 + random.next() % 5
                disk.cutPower(afterOperations: Int(random.next() % 25))
                var completed = false
                do {
                    let snapshot = try await writeSnapshot(store, lastIndex: next, data: Self.data(at: next))
                    try await store.completeInstall(snapshot, log: log)
                    completed = true
                } catch {}
                await log.close()
                inForce = try await Self.recoverAndCheck(
                    disk: disk, old: inForce, new: next, completed: completed, context: "seed \(seed), round \(round)")
            }
        }
    }
}
