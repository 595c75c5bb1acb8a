import Foundation
import struct RaftCore.SplitMix64
import RaftSimulation
import Testing
import WAL

/// Cuts the power at a random point of a random workload, crashes the simulated disk (which
/// loses, keeps or tears every unsynced write), and checks that recovery yields exactly the
/// state after the last acknowledged operation, or after the one in flight.
@Suite struct CrashRecoveryTests {
    static let crashPoints = ProcessInfo.processInfo.environment["WAL_CRASH_POINTS"].flatMap(Int.init) ?? 2000

    @Test func sequentialWorkloadRecoversToAcknowledgedOrInFlightState() async throws {
        for seed in 0..<UInt64(Self.crashPoints) {
            try await runCrashPoint(seed: seed)
        }
    }

    @Test func concurrentAppendsRecoverToAPrefixHoldingEveryAcknowledgedEntry() async throws {
        for seed in 0..<UInt64(Self.crashPoints / 4) {
            try await runConcurrentCrashPoint(seed: seed)
        }
    }

    private func runCrashPoint(seed: UInt64) async throws {
        var random = SplitMix64(seed: seed)
        let fileSystem = SimulatedFileSystem(seed: seed)
        let options = smallOptions(segmentSize: 1024 + Int(random.next() % 2048))
        var model = LogModel()
        var term: UInt64 = 1

        // A durable history first, so crashes also hit logs with several segments.
        let log = try WriteAheadLog(directory: "/wal", fileSystem: fileSystem, options: options)
        for _ in 0..<Int(random.next() % 6) {
            let batch = entries((model.lastIndex + 1)...(model.lastIndex + 1 + random.next() % 8), term: term)
            try await log.append(batch)
            model.append(batch, hardState: nil)
        }

        fileSystem.cutPower(afterOperations: 1 + Int(random.next() % 40))
        var inFlight = model
        workload: while true {
            var next = model
            do {
                switch random.next() % 10 {
                case 0..<5:
                    let count = random.next() % 6
                    let size = random.next() % 8 == 0 ? 8192 + Int(random.next() % 4096) : Int(random.next() % 300)
                    let batch = count == 0 ? [] : entries((model.lastIndex + 1)...(model.lastIndex + count), term: term, size: size)
                    let state = random.next() % 3 == 0 ? HardState(term: term, vote: random.next() % 5, commit: model.lastIndex) : nil
                    next.append(batch, hardState: state)
                    inFlight = next
                    try await log.append(batch, hardState: state)
                case 5, 6:
                    term += 1
                    let state = HardState(term: term, vote: random.next() % 5, commit: 0)
                    next.append([], hardState: state)
                    inFlight = next
                    try await log.save(state)
                case 7, 8:
                    let low = model.firstIndex - 1
                    let index = low + random.next() % (model.lastIndex - low + 2)
                    next.truncateSuffix(after: index)
                    inFlight = next
                    try await log.truncateSuffix(after: index)
                default:
                    let index = model.firstIndex + random.next() % (UInt64(model.entries.count) + 3)
                    next.truncatePrefix(through: index)
                    inFlight = next
                    try await log.truncatePrefix(through: index)
                }
                model = next
            } catch {
                break workload
            }
        }
        await log.close()
        fileSystem.crash()

        let recovered: WriteAheadLog<SimulatedFileSystem>
        do {
            recovered = try WriteAheadLog(directory: "/wal", fileSystem: fileSystem, options: options)
        } catch {
            Issue.record("seed \(seed): recovery failed: \(error)")
            return
        }
        let state = try LogModel(of: recovered)
        #expect(
            state == model || state == inFlight,
            "seed \(seed): recovered \(state); acknowledged \(model); in flight \(inFlight)")
        // The recovered log keeps working.
        try await recovered.append([entry(recovered.lastIndex + 1, term: term + 1)])
        await recovered.close()
    }

    private func runConcurrentCrashPoint(seed: UInt64) async throws {
        var random = SplitMix64(seed: seed &+ 1_000_003)
        let fileSystem = SimulatedFileSystem(seed: seed)
        let options = smallOptions(segmentSize: 2048)
        let log = try WriteAheadLog(directory: "/wal", fileSystem: fileSystem, options: options)
        fileSystem.cutPower(afterOperations: 1 + Int(random.next() % 30))
        let acknowledged = OrderRecorder()
        let total: UInt64 = 200
        await withTaskGroup(of: Void.self) { group in
            for producer in 0..<8 {
                group.addTask {
                    for round in 0..<25 {
                        // The payload names its producer and round; its index is assigned by the log.
                        guard let range = try? await log.append(payloads: [[UInt8(producer), UInt8(round)]], term: 1) else {
                            return
                        }
                        acknowledged.record(range.lowerBound)
                    }
                }
            }
        }
        await log.close()
        fileSystem.crash()
        let recovered = try WriteAheadLog(directory: "/wal", fileSystem: fileSystem, options: options)
        let entries = try allEntries(recovered)
        #expect(entries.map(\.index) == Array(0..<UInt64(entries.count)).map { $0 + 1 }, "seed \(seed)")
        #expect(UInt64(entries.count) <= total)
        let highestAcknowledged = acknowledged.values.max() ?? 0
        #expect(UInt64(entries.count) >= highestAcknowledged, "seed \(seed): acknowledged \(highestAcknowledged), recovered \(entries.count)")
        await recovered.close()
    }
}
