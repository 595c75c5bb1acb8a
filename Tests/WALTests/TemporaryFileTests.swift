import Foundation
import Testing
import WAL

/// Opening a log removes only its own temporary files (issue 10, finding 5).
@Suite struct TemporaryFileTests {
    @Test func onlyTheLogsOwnTemporariesAreRemoved() async throws {
        let temporary = TemporaryDirectory()
        defer { temporary.remove() }
        let directory = temporary.path
        let options = smallOptions()
        let log = try WriteAheadLog(directory: directory, fileSystem: PosixFileSystem(), options: options)
        try await log.append(entries(1...5))
        await log.close()

        let own = [
            "00000000000000000009-00000000000000000100.wal.tmp", "wal.meta.tmp",
            "00000000000000000009.prepared.tmp", "wal.meta.prepared.tmp",
        ]
        let foreign = [
            "notes.tmp", "wal.tmp", "00000000000000000009-00000000000000000100.tmp", "x.wal.tmp", "9.prepared.tmp",
            "x.prepared.tmp",
        ]
        for name in own + foreign {
            #expect(FileManager.default.createFile(atPath: directory + "/" + name, contents: Data([1, 2, 3])))
        }
        try FileManager.default.createDirectory(atPath: directory + "/build.tmp", withIntermediateDirectories: false)

        let reopened = try WriteAheadLog(directory: directory, fileSystem: PosixFileSystem(), options: options)
        #expect(try allEntries(reopened) == entries(1...5))
        #expect(Set(reopened.recoveryReport.removedFiles) == Set(own))
        await reopened.close()
        let names = Set(try FileManager.default.contentsOfDirectory(atPath: directory))
        for name in own { #expect(!names.contains(name), "\(name) was left behind") }
        for name in foreign + ["build.tmp"] { #expect(names.contains(name), "\(name) was deleted") }
    }
}
