/// The frame around every record in a segment.
///
/// Byte layout (integers little-endian), starting at an offset that is a multiple of 8:
///
/// | offset | size | field |
/// |-------:|-----:|-------|
/// | 0      | 4    | CRC32C of bytes 4..<frame end, seeded with the segment's salt |
/// | 4      | 4    | payload length *n* |
/// | 8      | 1    | record type: 1 entry, 2 hard state, 3 commit marker |
/// | 9      | 7    | reserved, zero |
/// | 16     | 8    | index (entries; for a commit marker, the last entry index so far) |
/// | 24     | 8    | term (entries); zero otherwise |
/// | 32     | n    | payload |
/// | 32+n   | 0–7  | zero padding to the next multiple of 8 |
///
/// The CRC covers the length, type, index, term, payload and padding, so no field can be
/// damaged undetected, and the salt makes stale bytes from another file fail the check. A
/// frame whose first 16 bytes are all zero marks the end of written data.
///
/// Payloads by type:
/// - entry: the caller's opaque bytes.
/// - hard state: term (8), vote (8, 0 = none), commit (8).
/// - commit marker: offset of the batch's first frame (8), number of frames in the batch
///   before the marker (4), reserved zero (4), and the *durable end* (8): where the file's
///   durable data ended when the batch was written. A batch is written while the one before
///   it may still be syncing, so a batch whose marker's durable end lies past another
///   batch's start proves that other batch durable. A batch is committed exactly when its
///   marker is intact and matches.
enum RecordFrame {
    static let headerSize = 32
    static let alignment = 8
    /// The largest payload a frame can describe: its length field has 32 bits.
    static let maxPayloadSize = Int(UInt32.max)

    enum RecordType: UInt8 {
        case entry = 1
        case hardState = 2
        case commit = 3
    }

    static let hardStatePayloadSize = 24
    static let commitPayloadSize = 24

    /// The whole frame's size for a payload of `payloadCount` bytes.
    @inline(__always)
    static func frameSize(payloadCount: Int) -> Int {
        (headerSize + payloadCount + alignment - 1) & ~(alignment - 1)
    }

    /// Encodes a frame at `base`, which must have room for `frameSize(payloadCount:)` bytes.
    /// Returns the frame's size.
    @inline(__always)
    static func encode(
        type: RecordType, index: UInt64, term: UInt64, payload: UnsafeRawBufferPointer,
        salt: UInt32, into base: UnsafeMutableRawPointer
    ) -> Int {
        let size = frameSize(payloadCount: payload.count)
        base.storeLittleEndian(UInt32(truncatingIfNeeded: payload.count), at: 4)
        base.storeLittleEndian(UInt64(type.rawValue), at: 8)
        base.storeLittleEndian(index, at: 16)
        base.storeLittleEndian(term, at: 24)
        if let source = payload.baseAddress, payload.count > 0 {
            (base + headerSize).copyMemory(from: source, byteCount: payload.count)
        }
        let padding = size - headerSize - payload.count
        if padding > 0 {
            (base + headerSize + payload.count).initializeMemory(
                as: UInt8.self, repeating: 0, count: padding)
        }
        let crc = CRC32C.checksum(UnsafeRawBufferPointer(start: base + 4, count: size - 4), extending: salt)
        base.storeLittleEndian(crc, at: 0)
        return size
    }

    /// Encodes only a frame's 32-byte header at `base`, for a payload (and `padding` zero
    /// bytes) that will be written from where they are. The CRC covers them all the same.
    static func encodeHeader(
        type: RecordType, index: UInt64, term: UInt64, payload: UnsafeRawBufferPointer, padding: Int,
        salt: UInt32, into base: UnsafeMutableRawPointer
    ) {
        base.storeLittleEndian(UInt32(truncatingIfNeeded: payload.count), at: 4)
        base.storeLittleEndian(UInt64(type.rawValue), at: 8)
        base.storeLittleEndian(index, at: 16)
        base.storeLittleEndian(term, at: 24)
        var crc = CRC32C.checksum(UnsafeRawBufferPointer(start: base + 4, count: headerSize - 4), extending: salt)
        crc = CRC32C.checksum(payload, extending: crc)
        withUnsafeBytes(of: UInt64(0)) { zeros in
            crc = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: zeros[0..<padding]), extending: crc)
        }
        base.storeLittleEndian(crc, at: 0)
    }

    /// What a frame header says, before its checksum has been verified.
    struct Header {
        var storedChecksum: UInt32
        var payloadCount: Int
        var type: RecordType
        var index: UInt64
        var term: UInt64
        var frameSize: Int { RecordFrame.frameSize(payloadCount: payloadCount) }
    }

    enum HeaderCheck {
        case header(Header)
        /// All-zero header: the end of written data.
        case endOfData
        /// Fields that no writer produces: damage or a torn write.
        case invalid(String)
    }

    @inline(__always)
    static func readHeader(at base: UnsafeRawPointer, maxPayload: Int) -> HeaderCheck {
        let crc = base.loadLittleEndian(at: 0, as: UInt32.self)
        let length = base.loadLittleEndian(at: 4, as: UInt32.self)
        let typeAndReserved = base.loadLittleEndian(at: 8, as: UInt64.self)
        if crc == 0 && length == 0 && typeAndReserved == 0 { return .endOfData }
        guard typeAndReserved >> 8 == 0 else { return .invalid("reserved bytes are not zero") }
        guard let type = RecordType(rawValue: UInt8(truncatingIfNeeded: typeAndReserved)) else {
            return .invalid("unknown record type \(typeAndReserved & 0xff)")
        }
        guard Int(length) <= maxPayload else { return .invalid("record length \(length) exceeds the limit") }
        switch type {
        case .hardState where length != hardStatePayloadSize,
            .commit where length != commitPayloadSize:
            return .invalid("wrong payload length \(length) for \(type)")
        default:
            break
        }
        return .header(
            Header(
                storedChecksum: crc, payloadCount: Int(length), type: type,
                index: base.loadLittleEndian(at: 16, as: UInt64.self),
                term: base.loadLittleEndian(at: 24, as: UInt64.self)))
    }

    @inline(__always)
    static func checksumMatches(_ header: Header, frame base: UnsafeRawPointer, salt: UInt32) -> Bool {
        CRC32C.checksum(UnsafeRawBufferPointer(start: base + 4, count: header.frameSize - 4), extending: salt)
            == header.storedChecksum
    }
}
