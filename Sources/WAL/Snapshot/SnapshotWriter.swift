/// Streams a snapshot's bytes into a temporary file, compressing blocks on all cores.
///
/// Bytes are cut into blocks of `SnapshotOptions.blockSize`; each full block is compressed
/// and checksummed by one of `workerThreads` dedicated threads while the caller keeps
/// writing, and this writer writes the compressed blocks to the file strictly in order, on
/// the caller's task: every file operation comes from one place, in a deterministic order.
/// At most `maxBlocksInFlight` blocks are being compressed at once: when that many are
/// pending, `write` suspends until the oldest is done and writes it out, so memory stays
/// bounded however large the snapshot is. A dedicated thread syncs the file every
/// `syncInterval` bytes (never, if it is 0), so the disk flushes while the cores compress.
///
/// The store creates writers (`SnapshotStore.write`) and owns their files: a writer's file
/// becomes a snapshot only when the store has synced and renamed it.
public final class SnapshotWriter<FS: FileSystem> {
    private let fileSystem: FS
    private let file: FS.FileHandle
    let path: String
    private let blockSize: Int
    private let level: Int32
    private let maxInFlight: Int
    private var header: SnapshotHeader
    private var fill: [UInt8]
    private let workers: BlockWorkers<Deflate.EncodedBlock>
    private var nextOrdinal: UInt64 = 0
    private var offset: Int64
    private var blocksChecksum: UInt32 = 0
    private var isOpen = true
    private let syncer: BackgroundSync<FS>?
    private let syncInterval: Int
    private var unsyncedBytes = 0

    /// The number of bytes written so far.
    public private(set) var bytesWritten: UInt64 = 0

    init(
        fileSystem: FS, file: FS.FileHandle, path: String, lastIndex: UInt64, term: UInt64, metadata: [UInt8],
        options: SnapshotOptions
    ) {
        self.fileSystem = fileSystem
        self.file = file
        self.path = path
        self.blockSize = options.blockSize
        self.level = Int32(options.compressionLevel)
        self.maxInFlight = options.maxBlocksInFlight
        self.workers = BlockWorkers(threadCount: min(options.workerThreads, options.maxBlocksInFlight), starter: options.threadStarter)
        self.header = SnapshotHeader(
            blockSize: options.blockSize, lastIndex: lastIndex, term: term, uncompressedSize: 0, compressedSize: 0,
            metadata: metadata)
        // The header is written last, once its sizes are known; the blocks start after it.
        self.offset = Int64(header.encodedSize)
        self.syncInterval = options.syncInterval
        self.syncer = options.syncInterval > 0 ? BackgroundSync(fileSystem: fileSystem, file: file, starter: options.threadStarter) : nil
        self.fill = []
        fill.reserveCapacity(options.blockSize)
    }

    deinit {
        // Abandoned without finish or abort: the workers stop once released (they never
        // touch the file), and the temporary file is removed the next time the store opens.
        // The sync thread must be done with the file before it is closed.
        _ = syncer?.finish()
        if isOpen { fileSystem.closeFile(file) }
    }

    /// Appends bytes to the snapshot.
    nonisolated(nonsending) public func write(_ bytes: [UInt8]) async throws(SnapshotError) {
        try await write(bytes[...])
    }

    /// Appends bytes to the snapshot.
    ///
    /// Whole blocks of `bytes` are compressed where they are, without a copy, so the
    /// workers may keep `bytes` alive until those blocks are written.
    nonisolated(nonsending) public func write(_ bytes: ArraySlice<UInt8>) async throws(SnapshotError) {
        guard isOpen else { throw .closed }
        var rest = bytes
        while !rest.isEmpty {
            if fill.isEmpty && rest.count >= blockSize {
                try await submit(rest.prefix(blockSize))
                rest = rest.dropFirst(blockSize)
            } else {
                let taken = min(rest.count, blockSize - fill.count)
                fill.append(contentsOf: rest.prefix(taken))
                rest = rest.dropFirst(taken)
                if fill.count == blockSize { try await submitFill() }
            }
        }
        bytesWritten += UInt64(bytes.count)
    }

    nonisolated(nonsending) private func submitFill() async throws(SnapshotError) {
        let block = fill[...]
        fill = []
        fill.reserveCapacity(blockSize)
        try await submit(block)
    }

    /// Hands `block` to the workers, then writes out every block that is done, waiting for
    /// the oldest while `maxBlocksInFlight` are pending.
    nonisolated(nonsending) private func submit(_ block: ArraySlice<UInt8>) async throws(SnapshotError) {
        let ordinal = nextOrdinal
        let level = level
        nextOrdinal += 1
        workers.submit { Deflate.encodeBlock(block, ordinal: ordinal, level: level) }
        while workers.pendingCount >= maxInFlight { try append(await workers.next()) }
        while let done = workers.nextIfFinished() { try append(done) }
    }

    /// Writes the next block in order to the file.
    private func append(_ block: Deflate.EncodedBlock) throws(SnapshotError) {
        do { try fileSystem.write(block.bytes, to: file, at: offset) } catch { throw SnapshotError(error) }
        offset += Int64(block.bytes.count)
        unsyncedBytes += block.bytes.count
        if let syncer, unsyncedBytes >= syncInterval {
            syncer.request()
            unsyncedBytes = 0
        }
        header.uncompressedSize += UInt64(block.uncompressedCount)
        withUnsafeBytes(of: block.checksum.littleEndian) { blocksChecksum = CRC32C.checksum($0, extending: blocksChecksum) }
    }

    /// Writes the last block, the trailer and the header, syncs the file and closes it.
    /// Returns the header written and the file's size.
    nonisolated(nonsending) func finish() async throws(SnapshotError) -> (header: SnapshotHeader, fileSize: Int64) {
        guard isOpen else { throw .closed }
        if !fill.isEmpty { try await submitFill() }
        while workers.pendingCount > 0 { try append(await workers.next()) }
        header.compressedSize = UInt64(offset - Int64(header.encodedSize))
        let trailer = SnapshotTrailer(
            blockCount: nextOrdinal, uncompressedSize: header.uncompressedSize, blocksChecksum: blocksChecksum)
        if let failure = syncer?.finish() { throw SnapshotError(failure) }
        do {
            try fileSystem.write(trailer.encoded, to: file, at: offset)
            try fileSystem.write(header.encoded, to: file, at: 0)
            try fileSystem.synchronize(file)
        } catch {
            throw SnapshotError(error)
        }
        isOpen = false
        fileSystem.closeFile(file)
        return (header, offset + Int64(SnapshotFormat.trailerSize))
    }

    /// Stops writing: stops the workers, then closes and removes the file.
    nonisolated(nonsending) func abort() async {
        workers.stop()
        _ = syncer?.finish()
        guard isOpen else { return }
        isOpen = false
        fileSystem.closeFile(file)
        // Best effort: if removal fails, the next open of the store removes the temporary file.
        try? fileSystem.removeFile(path)
    }
}
