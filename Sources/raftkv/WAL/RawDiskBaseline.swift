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

    let directory: String

    func measure(recordSize: Int, syncLoopDuration: Duration, sequentialBytes: Int) throws -> Result {
        let path = directory + "/raw-baseline.tmp"
        let descriptor = open(path, O_RDWR | O_CREAT | O_TRUNC, 0o644)
        guard descriptor >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
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
            guard record.withUnsafeBytes({ pwrite(descriptor, $0.baseAddress, recordSize, offset) }) == recordSize,
                fdatasync(descriptor) == 0
            else { throw POSIXError(.EIO) }
            offset += off_t(recordSize)
            writes += 1
        }
        let syncSeconds = Self.seconds(clock.now - syncStart)

        let chunk = [UInt8](repeating: 0x5A, count: 1 << 20)
        let target = max(sequentialBytes, 64 << 20)
        var written = 0
        offset = 0
        ftruncate(descriptor, 0)
        let sequentialStart = clock.now
        while written < target {
            let count = min(chunk.count, target - written)
            guard chunk.withUnsafeBytes({ pwrite(descriptor, $0.baseAddress, count, offset) }) == count else {
                throw POSIXError(.EIO)
            }
            offset += off_t(count)
            written += count
        }
        guard fdatasync(descriptor) == 0 else { throw POSIXError(.EIO) }
        let sequentialSeconds = Self.seconds(clock.now - sequentialStart)
        return Result(
            syncWritesPerSecond: Double(writes) / syncSeconds,
            sequentialMegabytesPerSecond: Double(written) / sequentialSeconds / 1e6)
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
