/// The small `wal.meta` file that records the log's first index after `truncatePrefix`.
///
/// Byte layout (32 bytes, little-endian): magic `SRAFTMET` (8), version 1 (4), reserved
/// zero (4), first index (8), reserved zero (4), CRC32C of bytes 0..<28 (4).
///
/// It is replaced atomically: written to `wal.meta.tmp`, synced, renamed, and the directory
/// synced. Segments whose entries all lie below the first index are then deleted.
struct LogMetadata: Equatable {
    static let fileName = "wal.meta"
    static let size = 32
    static let magic: UInt64 = 0x5445_4D54_4641_5253  // "SRAFTMET" read little-endian

    var firstIndex: UInt64

    var encoded: [UInt8] {
        var bytes = [UInt8](repeating: 0, count: Self.size)
        bytes.withUnsafeMutableBytes { raw in
            let base = raw.baseAddress!
            base.storeLittleEndian(Self.magic, at: 0)
            base.storeLittleEndian(UInt32(1), at: 8)
            base.storeLittleEndian(firstIndex, at: 16)
            base.storeLittleEndian(CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[0..<28])), at: 28)
        }
        return bytes
    }

    static func decode(_ bytes: [UInt8]) -> LogMetadata? {
        guard bytes.count == size else { return nil }
        return bytes.withUnsafeBytes { raw -> LogMetadata? in
            let base = raw.baseAddress!
            guard base.loadLittleEndian(at: 0, as: UInt64.self) == magic,
                base.loadLittleEndian(at: 8, as: UInt32.self) == 1,
                base.loadLittleEndian(at: 12, as: UInt32.self) == 0,
                base.loadLittleEndian(at: 24, as: UInt32.self) == 0,
                CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[0..<28]))
                    == base.loadLittleEndian(at: 28, as: UInt32.self)
            else { return nil }
            let firstIndex = base.loadLittleEndian(at: 16, as: UInt64.self)
            return (1...SegmentHeader.maxValue).contains(firstIndex) ? LogMetadata(firstIndex: firstIndex) : nil
        }
    }
}
