import Synchronization
import Foundation
import RaftSimulation
import Testing
import WAL

@Suite struct WriteAheadLogTests {
    let directory = "/wal"

    func open(_ fileSystem: SimulatedFileSystem, options: WALOptions = smallOptions()) throws -> WriteAheadLog<SimulatedFileSystem> {
        try WriteAheadLog(directory: directory, fileSystem: fileSystem, options: options)
    }

    @Test func emptyLogStartsAtIndexOne() async throws {
        let log = try open(SimulatedFileSystem(seed: 1))
        #expect(log.firstIndex == 1)
        #expect(log.lastIndex == 0)
        #expect(log.hardState == nil)
        #expect(throws: WALError.self) { try log.entry(at: 1) }
        await log.close()
    }

    @Test func appendedEntriesReadBackAndSurviveReopen() async throws {
        let fileSystem = SimulatedFileSystem(seed: 2)
        let written = entries(1...50)
        do {
            let log = try open(fileSystem)
            try await log.append(Array(written[0..<20]))
            try await log.append(Array(written[20...]), hardState: HardState(term: 3, vote: 2, commit: 40))
            #expect(log.lastIndex == 50)
            #expect(try allEntries(log) == written)
            #expect(try log.entry(at: 37) == written[36])
            await log.close()
        }
        let reopened = try open(fileSystem)
        #expect(reopened.recoveryReport.tornTail == nil)
        #expect(reopened.recoveryReport.entryCount == 50)
        #expect(reopened.hardState == HardState(term: 3, vote: 2, commit: 40))
        #expect(try allEntries(reopened) == written)
        await reopened.close()
    }

    @Test func nonContiguousAppendIsRejectedAndChangesNothing() async throws {
        let log = try open(SimulatedFileSystem(seed: 3))
        try await log.append(entries(1...3))
        await #expect(throws: WALError.nonContiguousIndex(expected: 4, found: 5)) {
            try await log.append(entries(5...6))
        }
        try await log.append(entries(4...4))
        #expect(log.lastIndex == 4)
        await log.close()
    }

    @Test func oversizedPayloadIsRejected() async throws {
        let options = smallOptions()
        let log = try open(SimulatedFileSystem(seed: 4), options: options)
        await #expect(throws: WALError.payloadTooLarge(size: options.maxPayloadSize + 1, limit: options.maxPayloadSize)) {
            try await log.append([LogEntry(index: 1, term: 1, payload: [UInt8](repeating: 1, count: options.maxPayloadSize + 1))])
        }
        #expect(log.lastIndex == 0)
        await log.close()
    }

    @Test func rolloverCreatesChainedSegments() async throws {
        let fileSystem = SimulatedFileSystem(seed: 5)
        let written = entries(1...200, size: 100)
        do {
            let log = try open(fileSystem, options: smallOptions(segmentSize: 2048))
            for chunk in stride(from: 0, to: 200, by: 10) { try await log.append(Array(written[chunk..<(chunk + 10)])) }
            await log.close()
        }
        let names = try fileSystem.contentsOfDirectory(directory).filter { $0.hasSuffix(".wal") }
        #expect(names.count > 5)
        let reopened = try open(fileSystem, options: smallOptions(segmentSize: 2048))
        #expect(reopened.recoveryReport.segmentCount == names.count)
        #expect(try allEntries(reopened) == written)
        #expect(try reopened.entries(in: 95...105) == Array(written[94...104]))
        await reopened.close()
    }

    @Test func assignedIndexesContinueTheLog() async throws {
        let log = try open(SimulatedFileSystem(seed: 6))
        let first = try await log.append(payloads: [[1], [2], [3]], term: 2)
        let second = try await log.append(payloads: [[4]], term: 2)
        #expect(first == 1..<4)
        #expect(second == 4..<5)
        #expect(try log.entry(at: 4) == LogEntry(index: 4, term: 2, payload: [4]))
        await log.close()
    }

    @Test func appendsArrivingDuringASyncShareTheNextOne() async throws {
        let fileSystem = SimulatedFileSystem(seed: 7)
        let log = try open(fileSystem, options: smallOptions(segmentSize: 1 << 20))
        let order = OrderRecorder()
        fileSystem.holdSyncs()
        log.append([entry(1)]) { error in
            #expect(error == nil)
            order.record(1)
        }
        while fileSystem.heldSyncCount == 0 { await Task.yield() }
        let syncsBefore = fileSystem.syncCount
        // 99 callers arrive while the first batch's fdatasync is in flight.
        async let rest: Void = withTaskGroup(of: Void.self) { group in
            for index in 2...100 as ClosedRange<UInt64> {
                group.addTask {
                    try! await log.append([entry(index)])
                    order.record(index)
                }
                // Enqueue in index order; each task is in the queue before the next starts.
                while log.lastAcceptedIndex < index { await Task.yield() }
            }
        }
        while log.lastAcceptedIndex < 100 { await Task.yield() }
        fileSystem.releaseSyncs()
        await rest
        #expect(log.lastIndex == 100)
        // The first batch's sync, then at most two more for all 99: the writer may have
        // written a batch of the first arrivals while the sync was held (the pipeline is two
        // deep); everything after that waited and went as one.
        #expect((2...3).contains(fileSystem.syncCount - syncsBefore))
        #expect(try allEntries(log) == entries(1...100))
        await log.close()
    }

    @Test func bytesInFlightAreBounded() async throws {
        let fileSystem = SimulatedFileSystem(seed: 18)
        var options = smallOptions(segmentSize: 1 << 20)
        options.maxBytesInFlight = 10_000
        let log = try open(fileSystem, options: options)
        let order = OrderRecorder()
        fileSystem.holdSyncs()
        // Fill both pipeline slots: 1 is syncing (held), 2 is written and waiting for it.
        log.append([entry(1, size: 10)]) { _ in order.record(1) }
        while fileSystem.heldSyncCount == 0 { await Task.yield() }
        let writesBefore = fileSystem.mutatingOperationCount
        log.append([entry(2, size: 10)]) { _ in order.record(2) }
        while fileSystem.mutatingOperationCount == writesBefore { await Task.yield() }
        // 3 and 4 fit under the limit together; 5 would exceed it, so it waits for them to
        // become durable before it is even handed to the writer.
        log.append([entry(3, size: 4000)]) { _ in order.record(3) }
        log.append([entry(4, size: 4000)]) { _ in order.record(4) }
        log.append([entry(5, size: 4000)]) { _ in order.record(5) }
        let syncsBefore = fileSystem.syncCount
        fileSystem.releaseSyncs()
        while order.values.count < 5 { await Task.yield() }
        #expect(order.values == [1, 2, 3, 4, 5])
        // 1, then 2, then 3 and 4 together, then 5 alone.
        #expect(fileSystem.syncCount - syncsBefore == 4)
        await log.close()
    }

    @Test func manyConcurrentProducersAllLand() async throws {
        let log = try open(SimulatedFileSystem(seed: 17), options: smallOptions(segmentSize: 1 << 20))
        let starts = await withTaskGroup(of: [UInt64].self) { group in
            for producer in 0..<16 {
                group.addTask {
                    var starts: [UInt64] = []
                    for round in 0..<20 {
                        let range = try! await log.append(payloads: [[UInt8(producer), UInt8(round)]], term: 1)
                        starts.append(range.lowerBound)
                    }
                    return starts
                }
            }
            return await group.reduce(into: []) { $0 += $1 }
        }
        #expect(starts.sorted() == Array(1...320))
        #expect(try allEntries(log).map(\.index) == Array(1...320))
        await log.close()
    }

    @Test func completionsArriveInIndexOrder() async throws {
        let log = try open(SimulatedFileSystem(seed: 8))
        let order = OrderRecorder()
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            for index in 1...100 as ClosedRange<UInt64> {
                log.append([entry(index)]) { error in
                    #expect(error == nil)
                    order.record(index)
                    if index == 100 { done.resume() }
                }
            }
        }
        #expect(order.values == Array(1...100))
        await log.close()
    }

    @Test func callingThreadModeCompletesBeforeReturningAndRunsReentrantAppendsInOrder() async throws {
        let fileSystem = SimulatedFileSystem(seed: 9)
        var options = smallOptions()
        options.execution = .callingThread
        let log = try open(fileSystem, options: options)
        let order = OrderRecorder()
        let syncsBefore = fileSystem.syncCount
        log.append([entry(1)]) { error in
            #expect(error == nil)
            order.record(1)
            // Appended from a completion: it must run before the outer call returns, after it.
            log.append([entry(2)]) { error in
                #expect(error == nil)
                order.record(2)
            }
        }
        #expect(order.values == [1, 2], "both appends completed before the first call returned")
        #expect(log.lastIndex == 2)
        #expect(fileSystem.syncCount - syncsBefore == 2, "each append was synced on its own")
        try await log.truncateSuffix(after: 1)
        #expect(log.lastIndex == 1)
        await log.close()
        let reopened = try open(fileSystem, options: options)
        #expect(try reopened.entry(at: 1) == entry(1))
        #expect(reopened.lastIndex == 1)
        await reopened.close()
    }

    @Test func truncateSuffixWithinAndAcrossSegments() async throws {
        let fileSystem = SimulatedFileSystem(seed: 9)
        let options = smallOptions(segmentSize: 2048)
        var expected = entries(1...120, size: 64)
        do {
            let log = try open(fileSystem, options: options)
            for chunk in stride(from: 0, to: 120, by: 8) { try await log.append(Array(expected[chunk..<(chunk + 8)])) }
            try await log.truncateSuffix(after: 117)  // within the last segment
            expected.removeSubrange(117...)
            #expect(log.lastIndex == 117)
            try await log.truncateSuffix(after: 30)  // across many segments
            expected.removeSubrange(30...)
            #expect(log.lastIndex == 30)
            #expect(try allEntries(log) == expected)
            let replacement = entries(31...45, term: 2, size: 64)
            try await log.append(replacement)
            expected += replacement
            #expect(try allEntries(log) == expected)
            await log.close()
        }
        let reopened = try open(fileSystem, options: options)
        #expect(try allEntries(reopened) == expected)
        #expect(try reopened.entry(at: 31).term == 2)
        await reopened.close()
    }

    @Test func truncateSuffixToNothingAndTruncateSuffixPastTheEndIsANoOp() async throws {
        let fileSystem = SimulatedFileSystem(seed: 10)
        let log = try open(fileSystem)
        try await log.append(entries(1...10))
        try await log.truncateSuffix(after: 20)
        #expect(log.lastIndex == 10)
        try await log.truncateSuffix(after: 0)
        #expect(log.lastIndex == 0)
        try await log.append(entries(1...2, term: 5))
        await log.close()
        let reopened = try open(fileSystem)
        #expect(try allEntries(reopened) == entries(1...2, term: 5))
        await reopened.close()
    }

    @Test func truncatePrefixDropsWholeSegmentsAndRecordsTheFirstIndex() async throws {
        let fileSystem = SimulatedFileSystem(seed: 11)
        let options = smallOptions(segmentSize: 2048)
        let written = entries(1...100, size: 64)
        do {
            let log = try open(fileSystem, options: options)
            for chunk in stride(from: 0, to: 100, by: 10) { try await log.append(Array(written[chunk..<(chunk + 10)])) }
            let before = try fileSystem.contentsOfDirectory(directory).filter { $0.hasSuffix(".wal") }.count
            try await log.truncatePrefix(through: 60)
            #expect(log.firstIndex == 61)
            #expect(try fileSystem.contentsOfDirectory(directory).filter { $0.hasSuffix(".wal") }.count < before)
            #expect(throws: WALError.self) { try log.entry(at: 60) }
            #expect(try allEntries(log) == Array(written[60...]))
            await log.close()
        }
        let reopened = try open(fileSystem, options: options)
        #expect(reopened.firstIndex == 61)
        #expect(try allEntries(reopened) == Array(written[60...]))
        await reopened.close()
    }

    @Test func truncatePrefixPastTheEndRestartsTheLogThere() async throws {
        let fileSystem = SimulatedFileSystem(seed: 12)
        do {
            let log = try open(fileSystem)
            try await log.append(entries(1...10), hardState: HardState(term: 2, vote: 1, commit: 10))
            try await log.truncatePrefix(through: 500)
            #expect(log.firstIndex == 501)
            #expect(log.lastIndex == 500)
            await #expect(throws: WALError.nonContiguousIndex(expected: 501, found: 11)) {
                try await log.append(entries(11...11))
            }
            try await log.append(entries(501...505, term: 3))
            await log.close()
        }
        let reopened = try open(fileSystem)
        #expect(reopened.firstIndex == 501)
        #expect(try allEntries(reopened) == entries(501...505, term: 3))
        #expect(reopened.hardState == HardState(term: 2, vote: 1, commit: 10))
        await reopened.close()
    }

    @Test func hardStateSurvivesTruncationsThatDeleteTheSegmentsHoldingIt() async throws {
        let fileSystem = SimulatedFileSystem(seed: 13)
        let options = smallOptions(segmentSize: 1024)
        do {
            let log = try open(fileSystem, options: options)
            try await log.append(entries(1...40, size: 64), hardState: HardState(term: 7, vote: 3, commit: 5))
            try await log.truncateSuffix(after: 2)
            try await log.truncatePrefix(through: 2)
            await log.close()
        }
        let reopened = try open(fileSystem, options: options)
        #expect(reopened.hardState == HardState(term: 7, vote: 3, commit: 5))
        #expect(reopened.firstIndex == 3)
        #expect(reopened.lastIndex == 2)
        await reopened.close()
    }

    @Test func closedLogRefusesWork() async throws {
        let log = try open(SimulatedFileSystem(seed: 14))
        await log.close()
        await #expect(throws: WALError.closed) { try await log.append(entries(1...1)) }
    }

    @Test(arguments: [false, true])
    func largePayloadsWrittenInPlaceReadBackAndRecover(posix: Bool) async throws {
        // Payloads from 8 KiB up go to disk straight from the caller's array (pwritev); mix
        // them with small ones and odd sizes, so headers, padding and CRCs are all exercised.
        let sizes = [100, 8192, 8193, 7, 65_535, 8191, 20_000, 0, 12_345]
        let written = sizes.enumerated().map { entry(UInt64($0.offset + 1), size: $0.element) }
        var options = smallOptions(segmentSize: 1 << 20)
        options.maxPayloadSize = 1 << 20
        let temporary = TemporaryDirectory()
        defer { temporary.remove() }
        func check<FS: FileSystem>(_ fileSystem: FS, _ path: String) async throws {
            do {
                let log = try WriteAheadLog(directory: path, fileSystem: fileSystem, options: options)
                try await log.append(Array(written[0..<4]), hardState: HardState(term: 1, vote: 2, commit: 3))
                try await log.append(Array(written[4...]))
                #expect(try allEntries(log) == written)
                await log.close()
            }
            let reopened = try WriteAheadLog(directory: path, fileSystem: fileSystem, options: options)
            #expect(reopened.recoveryReport.tornTail == nil)
            #expect(reopened.hardState == HardState(term: 1, vote: 2, commit: 3))
            #expect(try allEntries(reopened) == written)
            await reopened.close()
        }
        if posix {
            try await check(PosixFileSystem(), temporary.path)
        } else {
            try await check(SimulatedFileSystem(seed: 21), directory)
        }
    }

    @Test func posixRoundTripWithRolloverAndTruncation() async throws {
        let temporary = TemporaryDirectory()
        defer { temporary.remove() }
        var options = smallOptions(segmentSize: 8192)
        options.indexInterval = 8
        var expected = entries(1...300, size: 100)
        do {
            let log = try WriteAheadLog(directory: temporary.path, fileSystem: PosixFileSystem(), options: options)
            for chunk in stride(from: 0, to: 300, by: 25) { try await log.append(Array(expected[chunk..<(chunk + 25)])) }
            try await log.truncateSuffix(after: 250)
            expected.removeSubrange(250...)
            try await log.truncatePrefix(through: 100)
            expected.removeSubrange(0..<100)
            await log.close()
        }
        let reopened = try WriteAheadLog(directory: temporary.path, fileSystem: PosixFileSystem(), options: options)
        #expect(reopened.firstIndex == 101)
        #expect(try allEntries(reopened) == expected)
        let report = try WriteAheadLog.verify(directory: temporary.path, fileSystem: PosixFileSystem(), options: options)
        #expect(report.lastIndex == 250)
        await reopened.close()
    }
}

final class OrderRecorder: Sendable {
    private let storage = Mutex<[UInt64]>([])
    func record(_ value: UInt64) { storage.withLock { $0.append(value) } }
    var values: [UInt64] { storage.withLock { $0 } }
}

@Suite struct DirectoryLockTests {
    @Test func aSecondInstanceCannotOpenAnOpenLog() async throws {
        let fileSystem = SimulatedFileSystem(seed: 1)
        let log = try WriteAheadLog(directory: "/wal", fileSystem: fileSystem, options: smallOptions())
        #expect(throws: WALError.directoryLocked("/wal/LOCK")) {
            try WriteAheadLog(directory: "/wal", fileSystem: fileSystem, options: smallOptions())
        }
        await log.close()
        let reopened = try WriteAheadLog(directory: "/wal", fileSystem: fileSystem, options: smallOptions())
        await reopened.close()
    }

    @Test func thePosixLockExcludesASecondOpen() async throws {
        let temporary = TemporaryDirectory()
        defer { temporary.remove() }
        let log = try WriteAheadLog(directory: temporary.path, fileSystem: PosixFileSystem(), options: smallOptions())
        #expect(throws: WALError.directoryLocked(temporary.path + "/LOCK")) {
            try WriteAheadLog(directory: temporary.path, fileSystem: PosixFileSystem(), options: smallOptions())
        }
        await log.close()
        let reopened = try WriteAheadLog(directory: temporary.path, fileSystem: PosixFileSystem(), options: smallOptions())
        await reopened.close()
    }
}
