/// Walks the blocks of an open snapshot file in order, checking each block's frame and CRC
/// before handing out its stored bytes, and at the end checks the body against the header
/// and trailer. Shared by the reader, verification and the receiver, so there is one
/// definition of "valid".
struct BlockScanner<FS: FileSystem> {
    /// A block whose CRC holds.
    struct Block: Sendable {
        var ordinal: UInt64
        /// The file offset of the block's frame.
        var offset: Int64
        var frame: BlockFrame
        var payload: [UInt8]
    }

    let fileSystem: FS
    let file: FS.FileHandle
    let path: String
    let header: SnapshotHeader
    let trailer: SnapshotTrailer
    private(set) var ordinal: UInt64 = 0
    private var offset: Int64
    private var remaining: UInt64
    private var blocksChecksum: UInt32 = 0
    private let end: Int64

    /// Reads and checks the header and trailer of `file`.
    init(fileSystem: FS, file: FS.FileHandle, path: String) throws(SnapshotError) {
        let size: Int64
        do { size = try fileSystem.size(of: file) } catch { throw SnapshotError(error) }
        let header = try SnapshotHeader.read(from: file, fileSystem: fileSystem, path: path, fileSize: size)
        self.fileSystem = fileSystem
        self.file = file
        self.path = path
        self.header = header
        self.trailer = try SnapshotTrailer.read(
            from: file, fileSystem: fileSystem, path: path, fileSize: size, header: header)
        self.offset = Int64(header.encodedSize)
        self.end = size - Int64(SnapshotFormat.trailerSize)
        self.remaining = header.uncompressedSize
    }

    var fileSize: Int64 { end + Int64(SnapshotFormat.trailerSize) }

    /// The next block, CRC-checked; nil after the last one, once the totals are checked.
    mutating func next() throws(SnapshotError) -> Block? {
        guard ordinal < trailer.blockCount else {
            try checkEnd()
            return nil
        }
        let region = SnapshotError.Region.block(ordinal)
        guard offset + Int64(SnapshotFormat.blockFrameSize) <= end else {
            throw .corruption(file: path, region: region, offset: offset, reason: "block frame runs into the trailer")
        }
        let frameBytes = try readBytes(
            SnapshotFormat.blockFrameSize, at: offset, from: file, fileSystem: fileSystem, path: path, region: region)
        let decoded = frameBytes.withUnsafeBytes { raw in
            Result { () throws(SnapshotError) -> BlockFrame in
                try BlockFrame.decode(raw, blockSize: header.blockSize, path: path, ordinal: ordinal, offset: offset)
            }
        }
        let frame = try decoded.get()
        let expected = min(UInt64(header.blockSize), remaining)
        guard UInt64(frame.uncompressedCount) == expected else {
            throw .corruption(
                file: path, region: region, offset: offset,
                reason: "block holds \(frame.uncompressedCount) bytes where \(expected) are expected")
        }
        let payloadOffset = offset + Int64(SnapshotFormat.blockFrameSize)
        guard payloadOffset + Int64(frame.storedCount) <= end else {
            throw .corruption(file: path, region: region, offset: offset, reason: "block payload runs into the trailer")
        }
        let payload = try readBytes(
            frame.storedCount, at: payloadOffset, from: file, fileSystem: fileSystem, path: path, region: region)
        let crc = frameBytes.withUnsafeBytes { frameRaw in
            payload.withUnsafeBytes { SnapshotFormat.blockChecksum(frame: frameRaw, payload: $0, ordinal: ordinal) }
        }
        guard crc == frame.checksum else {
            throw .corruption(file: path, region: region, offset: offset, reason: "block CRC mismatch")
        }
        withUnsafeBytes(of: frame.checksum.littleEndian) { blocksChecksum = CRC32C.checksum($0, extending: blocksChecksum) }
        let block = Block(ordinal: ordinal, offset: offset, frame: frame, payload: payload)
        offset = payloadOffset + Int64(frame.storedCount)
        remaining -= expected
        ordinal += 1
        if ordinal == trailer.blockCount { try checkEnd() }
        return block
    }

    /// Checks that the blocks fill the body exactly and agree with the trailer.
    private func checkEnd() throws(SnapshotError) {
        guard offset == end else {
            throw .corruption(
                file: path, region: .trailer, offset: offset,
                reason: "blocks end at byte \(offset) but the trailer starts at \(end)")
        }
        guard blocksChecksum == trailer.blocksChecksum else {
            throw .corruption(file: path, region: .trailer, offset: end, reason: "CRC over the block CRCs mismatch")
        }
    }
}

/// Whole-file checks of snapshot files, without decompressing them.
public enum SnapshotVerifier {
    /// Checks every byte of the snapshot file at `path`: header, every block's CRC, and the
    /// trailer. Returns what the header says, or throws `SnapshotError.corruption` naming the
    /// file and the region (header, block number or trailer).
    public static func verify<FS: FileSystem>(path: String, fileSystem: FS) throws(SnapshotError) -> SnapshotDescriptor {
        let file: FS.FileHandle
        do { file = try fileSystem.openFile(path, mode: .readOnly) } catch { throw SnapshotError(error) }
        defer { fileSystem.closeFile(file) }
        var scanner = try BlockScanner(fileSystem: fileSystem, file: file, path: path)
        while try scanner.next() != nil {}
        let name = path.split(separator: "/").last.map(String.init) ?? path
        return SnapshotDescriptor(fileName: name, header: scanner.header, fileSize: scanner.fileSize)
    }
}
