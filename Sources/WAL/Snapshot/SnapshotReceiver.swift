/// Receives a snapshot file from a leader, chunk by chunk, into a temporary file, and
/// installs it atomically once every byte is present and every CRC holds.
///
/// Chunks must arrive in order, but resending is safe: a chunk that overlaps bytes already
/// received is accepted only if it matches them exactly (its new bytes, if any, are then
/// appended), so a sender that restarts from an earlier offset simply continues. A chunk
/// that would leave a gap is rejected with `SnapshotError.chunkOutOfOrder`, one whose bytes
/// differ from what was received with `.chunkConflict`, and one whose bytes fail their CRC
/// with `.chunkChecksumMismatch`; none of them changes the file. Nothing is merged
/// silently.
///
/// Until `finish` returns, the snapshot exists only as a temporary file, which `abort`
/// removes and which the next `SnapshotStore` open removes after a crash.
public final class SnapshotReceiver<FS: FileSystem> {
    /// The last index of the snapshot being received.
    public let lastIndex: UInt64
    /// Its term.
    public let term: UInt64
    /// How many leading bytes of the file have been received: the offset the next new chunk
    /// must start at.
    public private(set) var receivedBytes: Int64 = 0

    private let store: SnapshotStore<FS>
    private let file: FS.FileHandle
    private let path: String
    private let maxChunkSize: Int
    private var isOpen = true

    init(store: SnapshotStore<FS>, file: FS.FileHandle, path: String, lastIndex: UInt64, term: UInt64) {
        self.store = store
        self.file = file
        self.path = path
        self.lastIndex = lastIndex
        self.term = term
        self.maxChunkSize = store.options.maxChunkSize
    }

    deinit {
        // Dropped without finish or abort: the temporary file stays until the store next opens.
        if isOpen { store.fileSystem.closeFile(file) }
    }

    /// Writes a chunk into the temporary file. Returns `receivedBytes` afterwards, which is
    /// the offset to ask the sender for next.
    @discardableResult
    public func receive(_ chunk: SnapshotChunk) throws(SnapshotError) -> Int64 {
        guard isOpen else { throw .closed }
        guard chunk.bytes.count <= maxChunkSize else {
            throw .invalidArgument("chunk of \(chunk.bytes.count) bytes exceeds the limit of \(maxChunkSize)")
        }
        guard chunk.offset >= 0 else { throw .invalidArgument("negative chunk offset \(chunk.offset)") }
        guard CRC32C.checksum(chunk.bytes) == chunk.checksum else { throw .chunkChecksumMismatch(offset: chunk.offset) }
        guard chunk.offset <= receivedBytes else {
            throw .chunkOutOfOrder(expectedOffset: receivedBytes, offset: chunk.offset)
        }
        let fileSystem = store.fileSystem
        let overlap = Int(min(Int64(chunk.bytes.count), receivedBytes - chunk.offset))
        if overlap > 0 {
            let existing: [UInt8]
            do { existing = try fileSystem.read(count: overlap, from: file, at: chunk.offset) } catch {
                throw SnapshotError(error)
            }
            guard existing.elementsEqual(chunk.bytes.prefix(overlap)) else { throw .chunkConflict(offset: chunk.offset) }
        }
        if overlap < chunk.bytes.count {
            do { try fileSystem.write(Array(chunk.bytes[overlap...]), to: file, at: receivedBytes) } catch {
                throw SnapshotError(error)
            }
            receivedBytes += Int64(chunk.bytes.count - overlap)
        }
        return receivedBytes
    }

    /// Checks the whole received file (header, every block CRC, trailer, and that it is the
    /// snapshot this receiver was made for), syncs it, and installs it atomically under its
    /// final name. On any error the temporary file is removed.
    ///
    /// Then pass the result to `SnapshotStore.completeInstall(_:log:)`.
    public func finish() throws(SnapshotError) -> DurableSnapshot {
        guard isOpen else { throw .closed }
        isOpen = false
        let fileSystem = store.fileSystem
        let checked: (header: SnapshotHeader, fileSize: Int64)
        do throws(SnapshotError) {
            defer { fileSystem.closeFile(file) }
            var scanner = try BlockScanner(fileSystem: fileSystem, file: file, path: path)
            while try scanner.next() != nil {}
            guard scanner.header.lastIndex == lastIndex, scanner.header.term == term else {
                throw SnapshotError.snapshotMismatch(
                    expectedIndex: lastIndex, expectedTerm: term, foundIndex: scanner.header.lastIndex,
                    foundTerm: scanner.header.term)
            }
            do { try fileSystem.synchronize(file) } catch { throw SnapshotError(error) }
            checked = (scanner.header, scanner.fileSize)
        } catch {
            // Best effort: if removal fails, the next open of the store removes it.
            try? fileSystem.removeFile(path)
            throw error
        }
        return try store.install(temporary: path, header: checked.header, fileSize: checked.fileSize)
    }

    /// Abandons the transfer and removes the temporary file.
    public func abort() {
        guard isOpen else { return }
        isOpen = false
        store.fileSystem.closeFile(file)
        // Best effort: if removal fails, the next open of the store removes it.
        try? store.fileSystem.removeFile(path)
    }
}
