import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Tuning and limits for a `SnapshotStore`.
public struct SnapshotOptions: Sendable {
    /// Uncompressed bytes per block, `1...16 MiB`. Blocks are compressed independently; a
    /// larger block compresses slightly better, a smaller one bounds memory more tightly.
    public var blockSize: Int = 1 << 20
    /// The zlib level, `0...9`. Level 1 compresses JSON-like data about five-fold at the
    /// highest speed.
    public var compressionLevel: Int = 1
    /// How many blocks may be compressed or decompressed at once. Memory for a write or a
    /// read stays below about `2 × maxBlocksInFlight × blockSize`, whatever the snapshot's size.
    public var maxBlocksInFlight: Int = max(2, 2 * Self.processorCount)
    /// How many dedicated threads compress or decompress the blocks of one write or read;
    /// by default one per core. They do only that CPU work: every file operation is issued
    /// in order by the writer or reader itself. 0 does the work on the caller's task, with
    /// no threads at all, as a deterministic simulation needs.
    public var workerThreads: Int = Self.processorCount
    /// While a snapshot is written, a background thread syncs the file after every this many
    /// bytes, so the disk flushes while the cores compress and the final sync is short.
    /// 0 syncs only at the end.
    public var syncInterval: Int = 16 << 20
    /// How many snapshots to keep, counting the newest, `1...`. Older ones are deleted only
    /// after a newer one is durable and recorded in the log.
    public var retainedCount: Int = 2
    /// The largest metadata blob a snapshot may carry, at most 16 MiB.
    public var maxMetadataSize: Int = 1 << 20
    /// The largest chunk a chunk reader produces or a receiver accepts, at most 64 MiB.
    public var maxChunkSize: Int = 16 << 20
    /// Where the store reports recovery and corruption.
    public var logger: Logger = Logger(label: "swift-raft.snapshot")
    /// How worker and sync threads are started (tests make it fail).
    package var threadStarter = ThreadStarter.system

    /// Creates the default options.
    public init() {}

    static var processorCount: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    func validate() throws(SnapshotError) {
        guard blockSize >= 1, blockSize <= SnapshotFormat.maxBlockSize else {
            throw .invalidArgument("block size \(blockSize) is outside 1...\(SnapshotFormat.maxBlockSize)")
        }
        guard (0...9).contains(compressionLevel) else {
            throw .invalidArgument("compression level \(compressionLevel) is outside 0...9")
        }
        guard maxBlocksInFlight >= 1 else { throw .invalidArgument("maxBlocksInFlight must be at least 1") }
        guard workerThreads >= 0 else { throw .invalidArgument("workerThreads must not be negative") }
        guard syncInterval >= 0 else { throw .invalidArgument("syncInterval must not be negative") }
        guard retainedCount >= 1 else { throw .invalidArgument("retainedCount must be at least 1") }
        guard maxMetadataSize >= 0, maxMetadataSize <= SnapshotFormat.maxMetadataSize else {
            throw .invalidArgument("maxMetadataSize \(maxMetadataSize) exceeds \(SnapshotFormat.maxMetadataSize)")
        }
        guard maxChunkSize >= 1, maxChunkSize <= 64 << 20 else {
            throw .invalidArgument("maxChunkSize \(maxChunkSize) is outside 1...\(64 << 20)")
        }
    }
}
