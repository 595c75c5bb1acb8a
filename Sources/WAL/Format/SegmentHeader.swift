/// The fixed header at the start of every segment file.
///
/// Byte layout (64 bytes, integers little-endian):
///
/// | offset | size | field |
/// |-------:|-----:|-------|
/// | 0      | 8    | magic, the ASCII bytes `SRAFTWAL` |
/// | 8      | 4    | format version, currently 1 |
/// | 12     | 4    | salt: random per file; seeds every record CRC in the file |
/// | 16     | 8    | sequence number of the segment (the first segment is 1) |
/// | 24     | 8    | first index: the index the segment's first entry has (or would have) |
/// | 32     | 4    | flags; bit 0 = *truncation segment* (see below); other bits zero |
/// | 36     | 24   | reserved, zero |
/// | 60     | 4    | CRC32C (seed 0) of bytes 0..<60 |
///
/// A truncation segment starts a new suffix of the log at `firstIndex`: every entry with an
/// index at or above `firstIndex` in the segments before it is void. That is how
/// `truncateSuffix(after:)` becomes atomic without rewriting or shortening older files.
struct SegmentHeader: Equatable, Sendable {
    static let size = 64
    static let magic: UInt64 = 0x4C41_5754_4641_5253  // "SRAFTWAL" read little-endian
    static let currentVersion: UInt32 = 1
    static let truncationFlag: UInt32 = 1
    /// The largest sequence number or index the format accepts (2^62).
    static let maxValue: UInt64 = 1 << 62

    var version: UInt32 = SegmentHeader.currentVersion
    var salt: UInt32
    var sequence: UInt64
    var firstIndex: UInt64
    var isTruncation: Bool

    enum DecodeError: Error, Equatable {
        case badMagic
        case badChecksum
        case unsupportedVersion(UInt32)
        case badField(String)
    }

    func encode(into bytes: UnsafeMutableRawBufferPointer) {
        precondition(bytes.count >= Self.size)
        let base = bytes.baseAddress!
        base.initializeMemory(as: UInt8.self, repeating: 0, count: Self.size)
        base.storeLittleEndian(Self.magic, at: 0)
        base.storeLittleEndian(version, at: 8)
        base.storeLittleEndian(salt, at: 12)
        base.storeLittleEndian(sequence, at: 16)
        base.storeLittleEndian(firstIndex, at: 24)
        base.storeLittleEndian(isTruncation ? Self.truncationFlag : 0, at: 32)
        let crc = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<60]))
        base.storeLittleEndian(crc, at: 60)
    }

    var encoded: [UInt8] {
        var bytes = [UInt8](repeating: 0, count: Self.size)
        bytes.withUnsafeMutableBytes { encode(into: $0) }
        return bytes
    }

    static func decode(_ bytes: UnsafeRawBufferPointer) -> Result<SegmentHeader, DecodeError> {
        guard bytes.count >= size, let base = bytes.baseAddress else { return .failure(.badMagic) }
        guard base.loadLittleEndian(at: 0, as: UInt64.self) == magic else { return .failure(.badMagic) }
        let stored = base.loadLittleEndian(at: 60, as: UInt32.self)
        guard CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<60])) == stored else {
            return .failure(.badChecksum)
        }
        let version = base.loadLittleEndian(at: 8, as: UInt32.self)
        guard version == currentVersion else { return .failure(.unsupportedVersion(version)) }
        let flags = base.loadLittleEndian(at: 32, as: UInt32.self)
        guard flags & ~truncationFlag == 0 else { return .failure(.badField("flags")) }
        guard bytes[36..<60].allSatisfy({ $0 == 0 }) else { return .failure(.badField("reserved")) }
        let header = SegmentHeader(
            version: version,
            salt: base.loadLittleEndian(at: 12, as: UInt32.self),
            sequence: base.loadLittleEndian(at: 16, as: UInt64.self),
            firstIndex: base.loadLittleEndian(at: 24, as: UInt64.self),
            isTruncation: flags & truncationFlag != 0)
        // Bounded far below overflow, so no arithmetic on values read from disk can trap.
        guard (1...maxValue).contains(header.sequence), (1...maxValue).contains(header.firstIndex) else {
            return .failure(.badField("sequence or first index"))
        }
        return .success(header)
    }
}
