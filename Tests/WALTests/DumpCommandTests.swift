import Foundation
import Testing
import WAL

/// `raftkv wal dump`: what `--from/--to` select, and what a damaged log still shows
/// (issue 10, finding 11).
@Suite struct DumpCommandTests {
    /// One line of `wal dump` output: index, kind, file offset.
    struct Line: Equatable, CustomStringConvertible {
        var index: UInt64
        var kind: String
        var offset: Int64
        var description: String { "\(index) \(kind) @\(offset)" }
    }

    static func parse(_ output: String) -> [Line] {
        output.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: "\t")
            guard fields.count >= 5, let index = UInt64(fields[0]),
                let offset = fields[4].split(separator: ":").last.flatMap({ Int64($0) })
            else { return nil }
            return Line(index: index, kind: String(fields[2]), offset: offset)
        }
    }

    /// A one-segment log of three batches, each a hard state and three entries (1...9), then
    /// a hard state saved on its own after entry 9.
    static func buildLog(in directory: String) async throws -> [RecordSummary] {
        let log = try WriteAheadLog(directory: directory, fileSystem: PosixFileSystem(), options: smallOptions(segmentSize: 1 << 20))
        for batch in 0..<3 as Range<UInt64> {
            let first = batch * 3 + 1
            try await log.append(entries(first...(first + 2), size: 40), hardState: HardState(term: 1, vote: 1, commit: first - 1))
        }
        try await log.save(HardState(term: 2, vote: 0, commit: 9))
        await log.close()
        var records: [RecordSummary] = []
        try WriteAheadLog.forEachRecord(directory: directory, fileSystem: PosixFileSystem()) { records.append($0) }
        return records
    }

    static func lines(_ records: [RecordSummary]) -> [Line] {
        records.map { Line(index: $0.index, kind: $0.kind.rawValue, offset: $0.offset) }
    }

    @Test func aRangeShowsOnlyTheBatchesThatHoldIt() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let records = try await Self.buildLog(in: directory.path)
        #expect(records.count == 3 * 5 + 2)
        let (status, output) = try runRaftKV(["wal", "dump", directory.path, "--from", "4", "--to", "5"])
        #expect(status == 0, "\(output)")
        // The second batch: its hard state, entries 4 and 5 (not 6), its commit marker.
        let second = Array(records[5..<10])
        let expected = Self.lines(second.filter { $0.kind != .entry || $0.index <= 5 })
        #expect(Self.parse(output) == expected, "\(output)")
    }

    @Test func aBatchWithoutEntriesIsShownAtTheIndexItFollows() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let records = try await Self.buildLog(in: directory.path)
        let (status, output) = try runRaftKV(["wal", "dump", directory.path, "--from", "9", "--to", "9"])
        #expect(status == 0, "\(output)")
        // The third batch (hard state, entry 9, commit) and the hard state saved after it.
        let expected = Self.lines(Array(records[10...]).filter { $0.kind != .entry || $0.index == 9 })
        #expect(Self.parse(output) == expected, "\(output)")
        let (_, early) = try runRaftKV(["wal", "dump", directory.path, "--from", "1", "--to", "2"])
        #expect(!Self.parse(early).contains { $0.kind == "hard-state" && $0.offset == records[15].offset }, "\(early)")
    }

    @Test func aDamagedLogShowsEveryIntactRecordBeforeTheDamageThenTheError() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let records = try await Self.buildLog(in: directory.path)
        // Damage entry 5's payload: a committed batch that a later one saw durable.
        let damaged = try #require(records.firstIndex { $0.kind == .entry && $0.index == 5 })
        let handle = try #require(FileHandle(forUpdatingAtPath: records[damaged].file))
        try handle.seek(toOffset: UInt64(records[damaged].offset) + 40)
        let original = try #require(try handle.read(upToCount: 1)).first!
        try handle.seek(toOffset: UInt64(records[damaged].offset) + 40)
        try handle.write(contentsOf: [original ^ 0x10])
        try handle.close()

        let (status, output) = try runRaftKV(["wal", "dump", directory.path])
        #expect(status == 1, "\(output)")
        #expect(Self.parse(output) == Self.lines(Array(records[..<damaged])), "\(output)")
        #expect(output.contains("corruption in \(records[damaged].file) at byte \(records[damaged].offset)"), "\(output)")
        // The range still applies to what is shown.
        let (rangeStatus, ranged) = try runRaftKV(["wal", "dump", directory.path, "--from", "4"])
        #expect(rangeStatus == 1, "\(ranged)")
        #expect(Self.parse(ranged) == Self.lines(Array(records[5..<damaged])), "\(ranged)")
    }
}
