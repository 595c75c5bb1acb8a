import Foundation
import Testing
import WAL

/// `raftkv wal verify` checks a node directory as a whole: its log, its snapshots, and that
/// the log continues a valid snapshot; a `--snapshots` path that is not there is an error
/// (issue 10, finding 10).
@Suite struct VerifyCommandTests {
    /// A node directory as `RaftNode` lays it out: `log/` holding entries 1...30 and
    /// `snapshots/` holding snapshots at 10 and 20, the log recorded against the one at 20.
    /// Returns the path of the newest snapshot.
    static func buildNode(in node: String) async throws -> String {
        let fileSystem = PosixFileSystem()
        try FileManager.default.createDirectory(atPath: node, withIntermediateDirectories: true)
        let log = try WriteAheadLog(directory: node + "/log", fileSystem: fileSystem, options: smallOptions())
        try await log.append(entries(1...30, size: 40))
        let store = try SnapshotStore(directory: node + "/snapshots", fileSystem: fileSystem, logFirstIndex: log.firstIndex)
        var newest = ""
        for index: UInt64 in [10, 20] {
            let snapshot = try await store.write(lastIndex: index, term: 1) { writer in
                try await writer.write([UInt8](repeating: UInt8(index), count: 50_000))
            }
            try await store.completeInstall(snapshot, log: log)
            newest = node + "/snapshots/" + snapshot.descriptor.fileName
        }
        #expect(log.firstIndex == 21)
        await log.close()
        return newest
    }

    /// Flips one byte in the middle of a file.
    static func damage(_ path: String) throws {
        let handle = try #require(FileHandle(forUpdatingAtPath: path))
        let size = try handle.seekToEnd()
        try handle.seek(toOffset: size / 2)
        let byte = try #require(try handle.read(upToCount: 1)).first!
        try handle.seek(toOffset: size / 2)
        try handle.write(contentsOf: [byte ^ 0x55])
        try handle.close()
    }

    @Test func anIntactNodeIsOK() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let node = directory.path + "/n1"
        _ = try await Self.buildNode(in: node)
        for path in [node, node + "/log"] {
            let (status, output) = try runRaftKV(["wal", "verify", path])
            #expect(status == 0, "\(path): \(output)")
            #expect(output.contains("node:        \(node)"), "\(path): \(output)")
            #expect(output.contains("snapshot-00000000000000000020"), "\(path): \(output)")
            #expect(output.hasSuffix("ok\n"), "\(path): \(output)")
        }
    }

    @Test func aNodeWhoseNewestSnapshotIsCorruptAndWhoseLogLeavesAGapCannotStart() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let node = directory.path + "/n1"
        let newest = try await Self.buildNode(in: node)
        try Self.damage(newest)
        // Given the node, or its log directory: both are the node that cannot start.
        for path in [node, node + "/log"] {
            let (status, output) = try runRaftKV(["wal", "verify", path])
            #expect(status == 1, "\(path): \(output)")
            #expect(output.contains("corrupt snapshot"), "\(path): \(output)")
            #expect(
                output.contains("the node \(node) cannot start: the log starts at index 21 but the newest valid snapshot ends at index 10"),
                "\(path): \(output)")
            #expect(!output.contains("ok\n"), "\(path): \(output)")
        }
        // The node itself agrees: its snapshot store refuses to open.
        #expect(throws: SnapshotError.self) {
            try SnapshotStore(directory: node + "/snapshots", fileSystem: PosixFileSystem(), logFirstIndex: 21)
        }
    }

    @Test func aMissingSnapshotsPathIsAnError() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let node = directory.path + "/n1"
        _ = try await Self.buildNode(in: node)
        for path in [node, node + "/log"] {
            let (status, output) = try runRaftKV(["wal", "verify", path, "--snapshots", directory.path + "/no-such-directory"])
            #expect(status == 2, "\(path): \(output)")
            #expect(output.contains("no-such-directory"), "\(path): \(output)")
            #expect(!output.contains("ok\n"), "\(path): \(output)")
        }
    }
}
