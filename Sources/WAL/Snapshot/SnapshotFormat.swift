/// The byte layout of a snapshot file, version 1. Every integer is little-endian.
///
/// A snapshot file is a header, a body of independently compressed blocks, and a trailer:
///
/// ```
/// ┌────────┬─────────┬─────────┬─────┬─────────┬─────────┐
/// │ header │ block 0 │ block 1 │ ... │ block n │ trailer │
/// └────────┴─────────┴─────────┴─────┴─────────┴─────────┘
/// ```
///
/// **Header** (`56 + m` bytes, where `m` is the metadata length):
///
/// | offset | size | field |
/// |---|---|---|
/// | 0 | 8 | magic `RAFTSNAP` (ASCII) |
/// | 8 | 4 | format version, `1` |
/// | 12 | 4 | block size: the most uncompressed bytes in one block, `1...maxBlockSize` |
/// | 16 | 8 | last included index |
/// | 24 | 8 | last included term |
/// | 32 | 8 | uncompressed size: the sum of every block's uncompressed length |
/// | 40 | 8 | compressed size: the body's length in bytes (every block frame with its payload) |
/// | 48 | 4 | metadata length `m`, `0...maxMetadataSize` |
/// | 52 | m | metadata: opaque bytes (Raft keeps its membership configuration here) |
/// | 52 + m | 4 | CRC32C of bytes `0 ..< 52 + m` |
///
/// **Block** (`16 + s` bytes), repeated; blocks follow the header back to back:
///
/// | offset | size | field |
/// |---|---|---|
/// | 0 | 4 | stored length `s`, `1...blockSize` |
/// | 4 | 4 | uncompressed length `u`, `1...blockSize`; every block but the last has `u == blockSize` |
/// | 8 | 4 | flags: bit 0 set means the payload is stored raw (then `s == u`); other bits are 0 |
/// | 12 | 4 | CRC32C of bytes `0 ..< 12` of this frame and then the `s` payload bytes, starting from the block's ordinal (0, 1, ...) truncated to 32 bits, so a block moved to another place fails its check |
/// | 16 | s | payload: a raw DEFLATE stream (RFC 1951, no zlib wrapper) that inflates to exactly `u` bytes, or the `u` bytes themselves when stored raw |
///
/// The checksum covers the *stored* bytes, so a file can be verified end to end without
/// decompressing it, and a chunk shipped to a follower is checked before it is inflated.
/// A block is stored raw when compressing it would not make it smaller.
///
/// **Trailer** (32 bytes, the last bytes of the file):
///
/// | offset | size | field |
/// |---|---|---|
/// | 0 | 8 | magic `RAFTSEND` (ASCII) |
/// | 8 | 8 | block count |
/// | 16 | 8 | uncompressed size, repeated from the header |
/// | 24 | 4 | CRC32C over every block's CRC, each as 4 little-endian bytes, in block order |
/// | 28 | 4 | CRC32C of trailer bytes `0 ..< 28` |
///
/// A valid file is exactly `header + compressed size + 32` bytes long. The header's sizes
/// are written last (the writer streams, so it learns them only at the end), before the
/// file is synced and renamed into place; a file under its final name is always complete.
enum SnapshotFormat {
    static let magic: UInt64 = 0x5041_4E53_5446_4152  // "RAFTSNAP" read little-endian
    static let trailerMagic: UInt64 = 0x444E_4553_5446_4152  // "RAFTSEND" read little-endian
    static let version: UInt32 = 1

    /// The header's size without the metadata bytes and the CRC.
    static let fixedHeaderSize = 52
    static let blockFrameSize = 16
    static let trailerSize = 32

    /// The largest block size a file may declare. It bounds the memory one block needs.
    static let maxBlockSize = 16 << 20
    /// The largest metadata blob a file may carry.
    static let maxMetadataSize = 16 << 20

    /// Block flag: the payload is the uncompressed bytes themselves.
    static let rawFlag: UInt32 = 1

    static func headerSize(metadataCount: Int) -> Int { fixedHeaderSize + metadataCount + 4 }

    /// The CRC of a block's frame fields and payload.
    static func blockChecksum(
        frame: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer, ordinal: UInt64
    ) -> UInt32 {
        let seeded = CRC32C.checksum(
            UnsafeRawBufferPointer(rebasing: frame[0..<12]), extending: UInt32(truncatingIfNeeded: ordinal))
        return CRC32C.checksum(payload, extending: seeded)
    }
}

/// The decoded header of a snapshot file.
struct SnapshotHeader: Sendable, Hashable {
    var blockSize: Int
    var lastIndex: UInt64
    var term: UInt64
    var uncompressedSize: UInt64
    var compressedSize: UInt64
    var metadata: [UInt8]

    var encodedSize: Int { SnapshotFormat.headerSize(metadataCount: metadata.count) }

    /// The header's bytes, CRC included.
    var encoded: [UInt8] {
        var bytes = [UInt8](repeating: 0, count: encodedSize)
        bytes.withUnsafeMutableBytes { raw in
            let base = raw.baseAddress!
            base.storeLittleEndian(SnapshotFormat.magic, at: 0)
            base.storeLittleEndian(SnapshotFormat.version, at: 8)
            base.storeLittleEndian(UInt32(blockSize), at: 12)
            base.storeLittleEndian(lastIndex, at: 16)
            base.storeLittleEndian(term, at: 24)
            base.storeLittleEndian(uncompressedSize, at: 32)
            base.storeLittleEndian(compressedSize, at: 40)
            base.storeLittleEndian(UInt32(metadata.count), at: 48)
            metadata.withUnsafeBytes { source in
                if let start = source.baseAddress {
                    (base + SnapshotFormat.fixedHeaderSize).copyMemory(from: start, byteCount: source.count)
                }
            }
            let covered = SnapshotFormat.fixedHeaderSize + metadata.count
            let crc = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[0..<covered]))
            base.storeLittleEndian(crc, at: covered)
        }
        return bytes
    }

    /// Reads and checks the header at the start of `file`, whose size is `fileSize`.
    static func read<FS: FileSystem>(
        from file: FS.FileHandle, fileSystem: FS, path: String, fileSize: Int64
    ) throws(SnapshotError) -> SnapshotHeader {
        func damaged(_ reason: String, at offset: Int64 = 0) -> SnapshotError {
            .corruption(file: path, region: .header, offset: offset, reason: reason)
        }
        guard fileSize >= Int64(SnapshotFormat.fixedHeaderSize + 4 + SnapshotFormat.trailerSize) else {
            throw damaged("file of \(fileSize) bytes is too short to be a snapshot")
        }
        let fixed = try readBytes(SnapshotFormat.fixedHeaderSize, at: 0, from: file, fileSystem: fileSystem, path: path)
        let (magic, version, blockSize, metadataCount) = fixed.withUnsafeBytes { raw in
            (
                raw.baseAddress!.loadLittleEndian(at: 0, as: UInt64.self),
                raw.baseAddress!.loadLittleEndian(at: 8, as: UInt32.self),
                raw.baseAddress!.loadLittleEndian(at: 12, as: UInt32.self),
                raw.baseAddress!.loadLittleEndian(at: 48, as: UInt32.self)
            )
        }
        guard magic == SnapshotFormat.magic else { throw damaged("bad magic number") }
        // The version is only trusted once the CRC holds; an unknown one with a valid CRC is
        // a newer format, not damage.
        guard metadataCount <= SnapshotFormat.maxMetadataSize else {
            throw damaged("metadata length \(metadataCount) exceeds the limit", at: 48)
        }
        let headerSize = SnapshotFormat.headerSize(metadataCount: Int(metadataCount))
        guard Int64(headerSize + SnapshotFormat.trailerSize) <= fileSize else {
            throw damaged("metadata length \(metadataCount) runs past the end of the file", at: 48)
        }
        let rest = try readBytes(
            Int(metadataCount) + 4, at: Int64(SnapshotFormat.fixedHeaderSize), from: file, fileSystem: fileSystem,
            path: path)
        let stored = rest.withUnsafeBytes { $0.baseAddress!.loadLittleEndian(at: Int(metadataCount), as: UInt32.self) }
        var crc = fixed.withUnsafeBytes { CRC32C.checksum($0) }
        crc = rest.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<Int(metadataCount)]), extending: crc) }
        guard crc == stored else {
            throw damaged("header CRC mismatch", at: Int64(SnapshotFormat.fixedHeaderSize) + Int64(metadataCount))
        }
        guard version == SnapshotFormat.version else { throw .unsupportedVersion(file: path, version: version) }
        guard blockSize >= 1, blockSize <= SnapshotFormat.maxBlockSize else {
            throw damaged("block size \(blockSize) is out of range", at: 12)
        }
        let header = fixed.withUnsafeBytes { raw in
            SnapshotHeader(
                blockSize: Int(blockSize),
                lastIndex: raw.baseAddress!.loadLittleEndian(at: 16, as: UInt64.self),
                term: raw.baseAddress!.loadLittleEndian(at: 24, as: UInt64.self),
                uncompressedSize: raw.baseAddress!.loadLittleEndian(at: 32, as: UInt64.self),
                compressedSize: raw.baseAddress!.loadLittleEndian(at: 40, as: UInt64.self),
                metadata: Array(rest[0..<Int(metadataCount)]))
        }
        // The log continues at `lastIndex + 1`, so the largest index cannot be a snapshot's.
        guard header.lastIndex < UInt64.max else { throw damaged("last index \(header.lastIndex) is out of range", at: 16) }
        let expected = UInt64(fileSize) - UInt64(headerSize) - UInt64(SnapshotFormat.trailerSize)
        guard header.compressedSize == expected else {
            throw damaged(
                "file is \(fileSize) bytes but the header expects \(header.compressedSize) bytes of blocks "
                    + "(\(UInt64(headerSize) &+ header.compressedSize &+ UInt64(SnapshotFormat.trailerSize)) in all)",
                at: 40)
        }
        return header
    }
}

/// The decoded trailer of a snapshot file.
struct SnapshotTrailer: Sendable, Hashable {
    var blockCount: UInt64
    var uncompressedSize: UInt64
    /// The CRC over every block's CRC.
    var blocksChecksum: UInt32

    var encoded: [UInt8] {
        var bytes = [UInt8](repeating: 0, count: SnapshotFormat.trailerSize)
        bytes.withUnsafeMutableBytes { raw in
            let base = raw.baseAddress!
            base.storeLittleEndian(SnapshotFormat.trailerMagic, at: 0)
            base.storeLittleEndian(blockCount, at: 8)
            base.storeLittleEndian(uncompressedSize, at: 16)
            base.storeLittleEndian(blocksChecksum, at: 24)
            base.storeLittleEndian(CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[0..<28])), at: 28)
        }
        return bytes
    }

    /// Reads and checks the trailer at the end of `file`, and that it agrees with `header`.
    static func read<FS: FileSystem>(
        from file: FS.FileHandle, fileSystem: FS, path: String, fileSize: Int64, header: SnapshotHeader
    ) throws(SnapshotError) -> SnapshotTrailer {
        let offset = fileSize - Int64(SnapshotFormat.trailerSize)
        let bytes = try readBytes(
            SnapshotFormat.trailerSize, at: offset, from: file, fileSystem: fileSystem, path: path, region: .trailer)
        func damaged(_ reason: String) -> SnapshotError {
            .corruption(file: path, region: .trailer, offset: offset, reason: reason)
        }
        let (magic, trailer, stored, crc) = bytes.withUnsafeBytes { raw in
            (
                raw.baseAddress!.loadLittleEndian(at: 0, as: UInt64.self),
                SnapshotTrailer(
                    blockCount: raw.baseAddress!.loadLittleEndian(at: 8, as: UInt64.self),
                    uncompressedSize: raw.baseAddress!.loadLittleEndian(at: 16, as: UInt64.self),
                    blocksChecksum: raw.baseAddress!.loadLittleEndian(at: 24, as: UInt32.self)),
                raw.baseAddress!.loadLittleEndian(at: 28, as: UInt32.self),
                CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[0..<28]))
            )
        }
        guard magic == SnapshotFormat.trailerMagic else { throw damaged("bad trailer magic number") }
        guard crc == stored else { throw damaged("trailer CRC mismatch") }
        guard trailer.uncompressedSize == header.uncompressedSize else {
            throw damaged("trailer says \(trailer.uncompressedSize) uncompressed bytes, header \(header.uncompressedSize)")
        }
        // Every block but the last is full, so the count follows from the size; checking it
        // here bounds the work of any later scan.
        let blockSize = UInt64(header.blockSize)
        let expected = header.uncompressedSize / blockSize + (header.uncompressedSize % blockSize == 0 ? 0 : 1)
        guard trailer.blockCount == expected else {
            throw damaged("trailer says \(trailer.blockCount) blocks; \(header.uncompressedSize) bytes need \(expected)")
        }
        return trailer
    }
}

/// The frame in front of each block's payload.
struct BlockFrame: Sendable, Hashable {
    var storedCount: Int
    var uncompressedCount: Int
    var isRaw: Bool
    var checksum: UInt32

    /// Decodes and bounds-checks a frame; the payload's CRC is checked separately.
    static func decode(
        _ raw: UnsafeRawBufferPointer, blockSize: Int, path: String, ordinal: UInt64, offset: Int64
    ) throws(SnapshotError) -> BlockFrame {
        let base = raw.baseAddress!
        let stored = base.loadLittleEndian(at: 0, as: UInt32.self)
        let uncompressed = base.loadLittleEndian(at: 4, as: UInt32.self)
        let flags = base.loadLittleEndian(at: 8, as: UInt32.self)
        func damaged(_ reason: String) -> SnapshotError {
            .corruption(file: path, region: .block(ordinal), offset: offset, reason: reason)
        }
        guard stored >= 1, stored <= blockSize else { throw damaged("stored length \(stored) is out of range") }
        guard uncompressed >= 1, uncompressed <= blockSize else {
            throw damaged("uncompressed length \(uncompressed) is out of range")
        }
        guard flags & ~SnapshotFormat.rawFlag == 0 else { throw damaged("unknown flags \(flags)") }
        let isRaw = flags & SnapshotFormat.rawFlag != 0
        guard !isRaw || stored == uncompressed else { throw damaged("raw block with differing lengths") }
        return BlockFrame(
            storedCount: Int(stored), uncompressedCount: Int(uncompressed), isRaw: isRaw,
            checksum: base.loadLittleEndian(at: 12, as: UInt32.self))
    }
}

/// Reads exactly `count` bytes or fails with a typed error: a short read of a snapshot is
/// damage (truncation), not a crash artefact, because only complete files get final names.
func readBytes<FS: FileSystem>(
    _ count: Int, at offset: Int64, from file: FS.FileHandle, fileSystem: FS, path: String,
    region: SnapshotError.Region = .header
) throws(SnapshotError) -> [UInt8] {
    let bytes: [UInt8]
    do { bytes = try fileSystem.read(count: count, from: file, at: offset) } catch { throw SnapshotError(error) }
    guard bytes.count == count else {
        throw .corruption(file: path, region: region, offset: offset, reason: "unexpected end of file")
    }
    return bytes
}

/// Snapshot file names: `snapshot-<last index>-<term>.snap`, both as 20 zero-padded decimal
/// digits, so a plain sort orders snapshots by last index and then term.
enum SnapshotName {
    static let prefix = "snapshot-"
    static let suffix = ".snap"
    /// Files being written or received end with this; opening a store removes them.
    static let temporarySuffix = ".tmp"
    /// A snapshot found corrupt on open, and superseded by an older valid one, is renamed
    /// with this suffix: kept for the operator, ignored from then on.
    static let corruptSuffix = ".corrupt"

    static func make(lastIndex: UInt64, term: UInt64) -> String {
        prefix + padded(lastIndex) + "-" + padded(term) + suffix
    }

    /// A unique temporary name for a snapshot being written or received.
    static func temporary(lastIndex: UInt64, term: UInt64, identifier: UInt64) -> String {
        make(lastIndex: lastIndex, term: term) + "." + String(identifier, radix: 16)
            + temporarySuffix
    }

    /// Parses a snapshot name, or returns nil for any other file.
    static func parse(_ name: String) -> (lastIndex: UInt64, term: UInt64)? {
        guard name.hasPrefix(prefix), name.hasSuffix(suffix),
            name.utf8.count == prefix.utf8.count + 20 + 1 + 20 + suffix.utf8.count
        else { return nil }
        let parts = name.dropFirst(prefix.count).dropLast(suffix.count).split(separator: "-")
        guard parts.count == 2, parts.allSatisfy({ $0.utf8.count == 20 && $0.utf8.allSatisfy { $0 >= 48 && $0 <= 57 } }),
            let lastIndex = UInt64(parts[0]), let term = UInt64(parts[1])
        else { return nil }
        return (lastIndex, term)
    }

    private static func padded(_ value: UInt64) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits
    }
}
