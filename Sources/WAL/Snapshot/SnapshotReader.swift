import DequeModule

/// Streams a snapshot's uncompressed bytes, block by block, checking every block's CRC.
///
/// Blocks are read and CRC-checked in order on the caller's task (every file operation
/// comes from there), then inflated ahead by `workerThreads` dedicated threads, at most
/// `maxBlocksInFlight` blocks at once, and handed out in order. A damaged block, header or
/// trailer is reported as `SnapshotError.corruption` naming the file and the block; no byte
/// of a damaged block is ever returned. The header and trailer are checked on open, and
/// the totals once the last block is read, so a truncated or spliced file fails too.
public final class SnapshotReader<FS: FileSystem>: AsyncSequence, AsyncIteratorProtocol {
    public typealias Element = [UInt8]
    public typealias Failure = SnapshotError

    /// What the snapshot's header says.
    public let descriptor: SnapshotDescriptor
    private let fileSystem: FS
    private let file: FS.FileHandle
    private var scanner: BlockScanner<FS>
    /// The blocks handed to `workers`, in order, for naming one that fails to inflate.
    private var pending = Deque<(ordinal: UInt64, offset: Int64)>()
    private let workers: BlockWorkers<[UInt8]?>
    private let maxInFlight: Int
    private var isOpen = true
    private var scanFinished = false
    private var reachedEnd = false

    /// Opens the snapshot file at `path` and checks its header and trailer.
    public init(path: String, fileSystem: FS, options: SnapshotOptions = SnapshotOptions()) throws(SnapshotError) {
        let file: FS.FileHandle
        do { file = try fileSystem.openFile(path, mode: .readOnly) } catch { throw SnapshotError(error) }
        do {
            scanner = try BlockScanner(fileSystem: fileSystem, file: file, path: path)
        } catch {
            fileSystem.closeFile(file)
            throw error
        }
        self.fileSystem = fileSystem
        self.file = file
        self.maxInFlight = Swift.max(1, options.maxBlocksInFlight)
        self.workers = BlockWorkers(threadCount: Swift.min(options.workerThreads, self.maxInFlight), starter: options.threadStarter)
        let name = path.split(separator: "/").last.map(String.init) ?? path
        self.descriptor = SnapshotDescriptor(fileName: name, header: scanner.header, fileSize: scanner.fileSize)
    }

    deinit {
        if isOpen { fileSystem.closeFile(file) }
    }

    public func makeAsyncIterator() -> SnapshotReader<FS> { self }

    /// The next block of uncompressed bytes, or nil at the end of the snapshot. Runs on the
    /// caller's actor; blocks are inflated on the worker threads.
    nonisolated(nonsending) public func next() async throws(SnapshotError) -> [UInt8]? {
        try await next(isolation: #isolation)
    }

    /// The next block of uncompressed bytes, or nil at the end of the snapshot; runs on the
    /// caller's actor.
    public func next(isolation actor: isolated (any Actor)?) async throws(SnapshotError) -> [UInt8]? {
        if reachedEnd { return nil }
        guard isOpen else { throw .closed }
        do {
            try schedule()
        } catch {
            close()
            throw error
        }
        guard let (ordinal, offset) = pending.popFirst() else {
            reachedEnd = true
            close()
            return nil
        }
        guard let bytes = await workers.next() else {
            let path = scanner.path
            close()
            throw .corruption(
                file: path, region: .block(ordinal), offset: offset,
                reason: "block does not inflate to its stated length")
        }
        return bytes
    }

    /// Reads every remaining block, passing each to `body` in order.
    nonisolated(nonsending) public func forEachBlock(_ body: ([UInt8]) async throws -> Void) async throws {
        while let block = try await next() { try await body(block) }
    }

    /// Stops reading and closes the file; later calls to `next` fail with
    /// `SnapshotError.closed` (or return nil if the end was already reached).
    public func close() {
        guard isOpen else { return }
        isOpen = false
        workers.stop()
        pending.removeAll()
        fileSystem.closeFile(file)
    }

    /// Reads and checks blocks until `maxInFlight` are being inflated or none are left.
    private func schedule() throws(SnapshotError) {
        while !scanFinished && pending.count < maxInFlight {
            guard let block = try scanner.next() else {
                scanFinished = true
                return
            }
            if block.frame.isRaw {
                workers.submit(finished: block.payload)
            } else {
                let count = block.frame.uncompressedCount
                let payload = block.payload
                workers.submit { payload.withUnsafeBytes { Inflate.decompress($0, count: count) } }
            }
            pending.append((block.ordinal, block.offset))
        }
    }
}
