import Foundation
import Logging
import struct RaftCore.SplitMix64
import RaftSimulation
import WAL

/// Options with small segments, so tests cross segment boundaries quickly.
func smallOptions(segmentSize: Int = 4096) -> WALOptions {
    var options = WALOptions()
    options.segmentSize = segmentSize
    options.indexInterval = 4
    options.readBufferSize = 4096
    options.maxPayloadSize = 64 << 10
    options.logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
    return options
}

/// A deterministic payload for an index and term, so any entry can be checked.
func payload(index: UInt64, term: UInt64, size: Int? = nil) -> [UInt8] {
    var generator = SplitMix64(seed: index &* 31 &+ term)
    let count = size ?? Int(generator.next() % 200)
    return (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
}

func entry(_ index: UInt64, term: UInt64 = 1, size: Int? = nil) -> LogEntry {
    LogEntry(index: index, term: term, payload: payload(index: index, term: term, size: size))
}

func entries(_ range: ClosedRange<UInt64>, term: UInt64 = 1, size: Int? = nil) -> [LogEntry] {
    range.map { entry($0, term: term, size: size) }
}

/// Reads every live entry of a log.
func allEntries<FS: FileSystem>(_ log: WriteAheadLog<FS>) throws -> [LogEntry] {
    guard log.lastIndex >= log.firstIndex else { return [] }
    return try log.entries(in: log.firstIndex...log.lastIndex)
}

/// A fresh directory under the system temporary directory, removed by `remove()`.
struct TemporaryDirectory {
    let path: String

    init() {
        path = NSTemporaryDirectory() + "swift-raft-tests-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// A tmpfs of a few megabytes mounted on a fresh directory, to fill a disk for real.
struct SmallFileSystem {
    let path: String

    /// Whether this process may mount one (it runs as root).
    static var canMount: Bool { getuid() == 0 }

    init(megabytes: Int) throws {
        path = NSTemporaryDirectory() + "swift-raft-small-fs-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let mount = Process()
        mount.executableURL = URL(fileURLWithPath: "/bin/mount")
        mount.arguments = ["-t", "tmpfs", "-o", "size=\(megabytes)m", "tmpfs", path]
        try mount.run()
        mount.waitUntilExit()
        guard mount.terminationStatus == 0 else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path])
        }
    }

    func remove() {
        let unmount = Process()
        unmount.executableURL = URL(fileURLWithPath: "/bin/umount")
        unmount.arguments = [path]
        try? unmount.run()
        unmount.waitUntilExit()
        try? FileManager.default.removeItem(atPath: path)
    }
}
