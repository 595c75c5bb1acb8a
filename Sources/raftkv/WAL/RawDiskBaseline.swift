import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the disk does with no log in the way, measured in the log's own directory: the
/// yardstick for `wal stress --compare-raw`.
struct RawDiskBaseline {
    struct Result {
        /// A loop of `pwrite` of one record plus `fdatasync`, appending.
        var syncWritesPerSecond: Double
        /// Buffered sequential 1 MiB writes followed by one final `fdatasync`.
        var sequentialMegabytesPerSecond: Double
    }

    /// A system call of the baseline failed: which one, and its errno (0 for a short write).
    struct Failure: Error, CustomStringConvertible {
        var call: String
        var errno: Int32

        var description: String {
            errno == 0 ? "\(call): short write" : "\(call): \(String(cString: strerror(errno))) (errno \(errno))"
        }
    }

    let directory: String

    func measure(recordSize: Int, syncLoopDuration: Duration, sequentialBytes: Int) throws -> Result {
        let path = directory + "/raw-baseline.tmp"
        let descriptor = open(path, O_RDWR | O_CREAT | O_TRUNC, 0o644)
        guard descriptor >= 0 else { throw Failure(call: "open \(path)", errno: errno) }
        defer {
            close(descriptor)
            unlink(path)
        }
        let clock = ContinuousClock()
        let record = [UInt8](repeating: 0xA5, count: recordSize)
        var offset: off_t = 0
        var writes = 0
        let syncStart = clock.now
        while clock.now - syncStart < syncLoopDuration {
            try record.withUnsafeBytes { try Self.writeAll($0, to: descriptor, at: offset) }
            guard fdatasync(descriptor) == 0 else { throw Failure(call: "fdatasync", errno: errno) }
            offset += off_t(recordSize)
            writes += 1
        }
        let syncSeconds = (clock.now - syncStart).inSeconds

        let chunk = [UInt8](repeating: 0x5A, count: 1 << 20)
        let target = max(sequentialBytes, 64 << 20)
        var written = 0
        offset = 0
        ftruncate(descriptor, 0)
        let sequentialStart = clock.now
        while written < target {
            let count = min(chunk.count, target - written)
            try chunk.withUnsafeBytes { try Self.writeAll(UnsafeRawBufferPointer(rebasing: $0[..<count]), to: descriptor, at: offset) }
            offset += off_t(count)
            written += count
        }
        guard fdatasync(descriptor) == 0 else { throw Failure(call: "fdatasync", errno: errno) }
        let sequentialSeconds = (clock.now - sequentialStart).inSeconds
        return Result(
            syncWritesPerSecond: Double(writes) / syncSeconds,
            sequentialMegabytesPerSecond: Double(written) / sequentialSeconds / 1e6)
    }

    /// Writes all of `bytes` at `offset`, going on after a short write, so that a full disk
    /// shows as the ENOSPC of the next call rather than as a count that came up short.
    private static func writeAll(_ bytes: UnsafeRawBufferPointer, to descriptor: Int32, at offset: off_t) throws {
        var done = 0
        while done < bytes.count {
            let written = pwrite(descriptor, bytes.baseAddress! + done, bytes.count - done, offset + off_t(done))
            if written < 0, errno == EINTR { continue }
            guard written > 0 else { throw Failure(call: "pwrite", errno: written < 0 ? errno : 0) }
            done += written
        }
    }
}
