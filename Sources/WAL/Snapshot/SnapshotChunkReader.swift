/// A piece of a snapshot file as it is shipped to a follower (InstallSnapshot): stored,
/// compressed bytes at a byte offset, with a CRC32C of those bytes so that damage in
/// transit is caught before the bytes are written.
public struct SnapshotChunk: Sendable, Hashable {
    /// Where the bytes go in the snapshot file.
    public var offset: Int64
    /// The file's bytes at `offset`.
    public var bytes: [UInt8]
    /// CRC32C of `bytes`.
    public var checksum: UInt32
    /// Whether this chunk ends the file.
    public var isLast: Bool

    /// Creates a chunk, computing its checksum.
    public init(offset: Int64, bytes: [UInt8], isLast: Bool = false) {
        self.init(offset: offset, bytes: bytes, checksum: CRC32C.checksum(bytes), isLast: isLast)
    }

    /// Creates a chunk with a checksum that came with it (as from the network).
    public init(offset: Int64, bytes: [UInt8], checksum: UInt32, isLast: Bool) {
        self.offset = offset
        self.bytes = bytes
        self.checksum = checksum
        self.isLast = isLast
    }
}

/// Reads a snapshot file's stored bytes in chunks, from any byte offset, so InstallSnapshot
/// ships the compressed bytes as they are and a transfer can resume where it stopped.
///
/// The chunk reader does not check block CRCs (the receiver does, before installing); each
/// chunk carries a CRC of its own bytes for the trip.
public final class SnapshotChunkReader<FS: FileSystem> {
    /// The snapshot being read.
    public let descriptor: SnapshotDescriptor
    /// The size of each chunk but the last.
    public let chunkSize: Int
    private let fileSystem: FS
    private let file: FS.FileHandle
    private let path: String
    private var isOpen = true

    /// The file's size: the offset after the last chunk.
    public var fileSize: Int64 { descriptor.fileSize }

    init(fileSystem: FS, path: String, descriptor: SnapshotDescriptor, chunkSize: Int) throws(SnapshotError) {
        let file: FS.FileHandle
        do { file = try fileSystem.openFile(path, mode: .readOnly) } catch { throw SnapshotError(error) }
        self.fileSystem = fileSystem
        self.file = file
        self.path = path
        self.descriptor = descriptor
        self.chunkSize = chunkSize
    }

    deinit {
        if isOpen { fileSystem.closeFile(file) }
    }

    /// The chunk that starts at `offset`: `chunkSize` bytes, or fewer at the end of the file.
    public func chunk(at offset: Int64) throws(SnapshotError) -> SnapshotChunk {
        guard isOpen else { throw .closed }
        guard offset >= 0, offset < fileSize else {
            throw .invalidArgument("chunk offset \(offset) is outside the file's \(fileSize) bytes")
        }
        let count = Int(min(Int64(chunkSize), fileSize - offset))
        let bytes = try readBytes(count, at: offset, from: file, fileSystem: fileSystem, path: path, region: .trailer)
        return SnapshotChunk(offset: offset, bytes: bytes, isLast: offset + Int64(count) == fileSize)
    }

    /// Closes the file.
    public func close() {
        guard isOpen else { return }
        isOpen = false
        fileSystem.closeFile(file)
    }
}
