import Foundation
import Testing
import WAL

/// `raftkv wal repair`: cuts off a damaged last batch only with `--yes`, after keeping a copy,
/// and refuses damage anywhere else (issue 10, finding 12).
@Suite struct RepairCommandTests {
    /// A one-segment log of three batches of three entries each (1...9).
    static func buildLog(in directory: String) async throws -> [RecordSummary] {
        let log = try WriteAheadLog(directory: directory, fileSystem: PosixFileSystem(), options: smallOptions(segmentSize: 1 << 20))
        for batch in 0..<3 as Range<UInt64> {
            let first = batch * 3 + 1
            try await log.append(entries(first...(first + 2), size: 40), hardState: HardState(term: 1, vote: 1, commit: first - 1))
        }
        await log.close()
        var records: [RecordSummary] = []
        try WriteAheadLog.forEachRecord(directory: directory, fileSystem: PosixFileSystem()) { records.append($0) }
        return records
    }

    /// Flips a byte in the payload of the entry with `index`: every sector is still there, so
    /// no torn write explains it.
    static func damageEntry(_ index: UInt64, in records: [RecordSummary]) throws -> String {
        let record = try #require(records.first { $0.kind == .entry && $0.index == index })
        let handle = try #require(FileHandle(forUpdatingAtPath: record.file))
        try handle.seek(toOffset: UInt64(record.offset) + 40)
        let byte = try #require(try handle.read(upToCount: 1)).first!
        try handle.seek(toOffset: UInt64(record.offset) + 40)
        try handle.write(contentsOf: [byte ^ 0x10])
        try handle.close()
        return record.file
    }

    static func backups(in directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasPrefix("repair-backup-") }
    }

    @Test func aDamagedLastBatchIsDroppedOnlyWithYesAfterABackup() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let records = try await Self.buildLog(in: directory.path)
        let segment = try Self.damageEntry(8, in: records)
        let damaged = try Data(contentsOf: URL(fileURLWithPath: segment))
        // The third batch starts after the second batch's commit marker.
        let cut = try #require(records.last { $0.kind == .commit && $0.index == 6 }).offset + 56
        #expect(try runRaftKV(["wal", "verify", directory.path]).status == 1)

        let (dryStatus, dryRun) = try runRaftKV(["wal", "repair", directory.path])
        #expect(dryStatus == 1, "\(dryRun)")
        #expect(
            dryRun.contains("would drop:  \(damaged.count - Int(cut)) bytes of \(segment) from byte \(cut) to its end: the last batch, entries 7...9"),
            "\(dryRun)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: segment)) == damaged, "a dry run changed the segment")
        #expect(try Self.backups(in: directory.path).isEmpty)

        let (status, output) = try runRaftKV(["wal", "repair", directory.path, "--yes"])
        #expect(status == 0, "\(output)")
        let backups = try Self.backups(in: directory.path)
        #expect(backups.count == 1)
        let name = URL(fileURLWithPath: segment).lastPathComponent
        let copy = directory.path + "/" + (backups.first ?? "") + "/" + name
        #expect(try Data(contentsOf: URL(fileURLWithPath: copy)) == damaged, "the backup is not the damaged file")
        #expect(try Data(contentsOf: URL(fileURLWithPath: segment)) == damaged.prefix(Int(cut)))

        let (verifyStatus, verified) = try runRaftKV(["wal", "verify", directory.path])
        #expect(verifyStatus == 0, "\(verified)")
        let log = try WriteAheadLog(directory: directory.path, fileSystem: PosixFileSystem())
        #expect(log.lastIndex == 6)
        #expect(try allEntries(log) == entries(1...6, size: 40))
        await log.close()
    }

    @Test func damageBeforeTheLastBatchIsRefusedAndNothingChanges() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let records = try await Self.buildLog(in: directory.path)
        let segment = try Self.damageEntry(5, in: records)
        let damaged = try Data(contentsOf: URL(fileURLWithPath: segment))
        let offset = try #require(records.first { $0.kind == .entry && $0.index == 5 }).offset

        let (status, output) = try runRaftKV(["wal", "repair", directory.path, "--yes"])
        #expect(status == 1, "\(output)")
        #expect(output.contains("corruption in \(segment) at byte \(offset)"), "\(output)")
        #expect(output.contains("refused: a later batch follows the damaged one"), "\(output)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: segment)) == damaged)
        #expect(try Self.backups(in: directory.path).isEmpty)
    }

    @Test func anIntactLogIsLeftAlone() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let records = try await Self.buildLog(in: directory.path)
        let before = try Data(contentsOf: URL(fileURLWithPath: records[0].file))
        let (status, output) = try runRaftKV(["wal", "repair", directory.path, "--yes"])
        #expect(status == 0, "\(output)")
        #expect(output.contains("nothing to repair"), "\(output)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: records[0].file)) == before)
        #expect(try Self.backups(in: directory.path).isEmpty)
    }
}
