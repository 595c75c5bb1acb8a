import Foundation
import struct RaftCore.SplitMix64
import Testing
import WAL

/// Runs `raftkv wal verify` and `raftkv wal dump` over random mutations of a valid
/// multi-segment log: truncations, bit flips, inserted and deleted ranges, swapped ranges and
/// swapped segment files (issue 10, finding 7).
///
/// Each run must end with exit status 0, 1 or 2 (never a signal: no trap), and the two
/// commands must agree. A mutation is never reported intact when recovery has no innocent
/// reading of it: a bit flip anywhere (every byte of the template is committed data, and
/// `CorruptionTests` shows every flip is caught), or any change to a sealed segment, to a
/// segment header, or to `wal.meta`. Other changes to the last segment may honestly read as a
/// torn tail (a crash can leave a frame whose length runs past the end of the file, and
/// recovery cannot tell how many batches a crash cut off), so for them only the first two
/// properties are asserted.
///
/// `WAL_FUZZ_CASES` sets the number of cases (default 400) and `WAL_FUZZ_SEED` the seed
/// (default 1); a failure names the case's seed and mutation.
@Suite struct CommandLineFuzzTests {
    static let cases = ProcessInfo.processInfo.environment["WAL_FUZZ_CASES"].flatMap(Int.init) ?? 400
    static let seed = ProcessInfo.processInfo.environment["WAL_FUZZ_SEED"].flatMap(UInt64.init) ?? 1

    enum Mutation: CustomStringConvertible {
        case truncate(file: String, size: Int)
        case flip(file: String, offset: Int, bit: Int)
        case insert(file: String, offset: Int, bytes: [UInt8])
        case delete(file: String, range: Range<Int>)
        case swapRanges(file: String, first: Int, second: Int, count: Int)
        case swapFiles(String, String)

        var description: String {
            switch self {
            case .truncate(let file, let size): return "truncate \(file) to \(size)"
            case .flip(let file, let offset, let bit): return "flip bit \(bit) of \(file):\(offset)"
            case .insert(let file, let offset, let bytes): return "insert \(bytes.count) bytes at \(file):\(offset)"
            case .delete(let file, let range): return "delete \(file):\(range)"
            case .swapRanges(let file, let first, let second, let count):
                return "swap \(count) bytes at \(file):\(first) and :\(second)"
            case .swapFiles(let first, let second): return "swap the contents of \(first) and \(second)"
            }
        }
    }

    /// A log of entries 1...60 in batches of three with hard states, over several segments.
    static func buildTemplate(in directory: String) async throws {
        let log = try WriteAheadLog(directory: directory, fileSystem: PosixFileSystem(), options: smallOptions(segmentSize: 1500))
        for first in stride(from: UInt64(1), through: 58, by: 3) {
            try await log.append(entries(first...(first + 2), size: 60), hardState: HardState(term: 1, vote: 1, commit: first - 1))
        }
        await log.close()
    }

    static func randomMutation(files: [String: [UInt8]], segments: [String], using random: inout SplitMix64) -> Mutation {
        let names = files.keys.sorted()
        let file = names.randomElement(using: &random)!
        let size = files[file]!.count
        switch random.next() % 6 {
        case 0:
            return .truncate(file: file, size: Int.random(in: 0..<size, using: &random))
        case 1:
            return .flip(file: file, offset: Int.random(in: 0..<size, using: &random), bit: Int.random(in: 0..<8, using: &random))
        case 2:
            let count = Int.random(in: 1...64, using: &random)
            let bytes = random.next() % 4 == 0
                ? [UInt8](repeating: 0, count: count) : (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }
            return .insert(file: file, offset: Int.random(in: 0...size, using: &random), bytes: bytes)
        case 3:
            let start = Int.random(in: 0..<size, using: &random)
            return .delete(file: file, range: start..<min(size, start + Int.random(in: 1...200, using: &random)))
        case 4:
            let count = Int.random(in: 1...max(1, size / 2), using: &random)
            return .swapRanges(
                file: file, first: Int.random(in: 0...(size - count), using: &random),
                second: Int.random(in: 0...(size - count), using: &random), count: count)
        default:
            let pair = segments.shuffled(using: &random).prefix(2)
            return .swapFiles(pair.first!, pair.last!)
        }
    }

    /// The files' contents after `mutation`.
    static func apply(_ mutation: Mutation, to original: [String: [UInt8]]) -> [String: [UInt8]] {
        var files = original
        switch mutation {
        case .truncate(let file, let size): files[file]!.removeSubrange(size...)
        case .flip(let file, let offset, let bit): files[file]![offset] ^= 1 << bit
        case .insert(let file, let offset, let bytes): files[file]!.insert(contentsOf: bytes, at: offset)
        case .delete(let file, let range): files[file]!.removeSubrange(range)
        case .swapRanges(let file, let first, let second, let count):
            let a = Array(original[file]![first..<(first + count)])
            let b = Array(original[file]![second..<(second + count)])
            // Overlapping ranges: the second copy wins where they meet.
            files[file]!.replaceSubrange(first..<(first + count), with: b)
            files[file]!.replaceSubrange(second..<(second + count), with: a)
        case .swapFiles(let first, let second): (files[first], files[second]) = (original[second], original[first])
        }
        return files
    }

    /// Whether recovery has no innocent reading of the change from `original` to `mutated`.
    static func mustBeReported(
        _ mutation: Mutation, original: [String: [UInt8]], mutated: [String: [UInt8]], lastSegment: String
    ) -> Bool {
        if case .flip = mutation { return true }
        for (name, bytes) in mutated where bytes != original[name] {
            if name != lastSegment { return true }
            let before = original[name]!
            let firstDifference = zip(before, bytes).enumerated().first { $0.element.0 != $0.element.1 }?.offset
                ?? min(before.count, bytes.count)
            if firstDifference < 64 { return true }
        }
        return false
    }

    @Test func verifyAndDumpNeverTrapAndNeverPassDamageTheyMustSee() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let template = directory.path + "/template"
        try await Self.buildTemplate(in: template)
        var original: [String: [UInt8]] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: template) where name != "LOCK" {
            original[name] = try [UInt8](Data(contentsOf: URL(fileURLWithPath: template + "/" + name)))
        }
        let segments = original.keys.filter { $0.hasSuffix(".wal") }.sorted()
        try #require(segments.count >= 4, "the template should span several segments")
        let lastSegment = segments.last!
        #expect(try runRaftKV(["wal", "verify", template]).status == 0)

        var random = SplitMix64(seed: Self.seed)
        var reported = 0
        for number in 0..<Self.cases {
            let mutation = Self.randomMutation(files: original, segments: segments, using: &random)
            let mutated = Self.apply(mutation, to: original)
            let log = directory.path + "/case"
            try? FileManager.default.removeItem(atPath: log)
            try FileManager.default.createDirectory(atPath: log, withIntermediateDirectories: true)
            for (name, bytes) in mutated {
                try Data(bytes).write(to: URL(fileURLWithPath: log + "/" + name))
            }
            let context = "seed \(Self.seed), case \(number): \(mutation)"
            var statuses: [Int32] = []
            for command in ["verify", "dump"] {
                let child = try ChildProcess(executable: CrashTortureTests.raftkv.path, arguments: ["wal", command, log])
                let (status, signal) = child.waitForTermination()
                #expect(signal == nil, "wal \(command) was killed by signal \(signal ?? 0); \(context)\n\(child.output)")
                #expect([0, 1, 2].contains(status), "wal \(command) exited \(status); \(context)\n\(child.output)")
                statuses.append(status)
            }
            #expect(statuses[0] == statuses[1], "verify and dump disagree (\(statuses)); \(context)")
            if Self.mustBeReported(mutation, original: original, mutated: mutated, lastSegment: lastSegment) {
                reported += 1
                #expect(statuses[0] != 0, "a mutation recovery must catch was reported ok; \(context)")
            }
        }
        // The assertion above has to have had work to do.
        #expect(reported > Self.cases / 3)
    }
}
