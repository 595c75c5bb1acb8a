/// Appends the fields of the workload's binary formats: minimal LEB128 lengths, so that
/// small keys and values cost one length byte.
package struct ByteWriter {
    package private(set) var bytes: [UInt8] = []

    package mutating func append(_ byte: UInt8) {
        bytes.append(byte)
    }

    package mutating func appendLength(_ length: Int) {
        var rest = UInt64(length)
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    package mutating func appendBytes(_ value: [UInt8]) {
        appendLength(value.count)
        bytes.append(contentsOf: value)
    }

    /// A signed integer in eight bytes, big-endian.
    package mutating func appendInteger(_ value: Int64) {
        let raw = UInt64(bitPattern: value)
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: raw >> UInt64(shift))) }
    }

    package mutating func appendString(_ value: String) {
        appendBytes(Array(value.utf8))
    }

    // A flag byte tells an absent value from an empty one.
    package mutating func appendOptionalBytes(_ value: [UInt8]?) {
        if let value {
            append(1)
            appendBytes(value)
        } else {
            append(0)
        }
    }
}

/// Reads what ``ByteWriter`` wrote, failing with a typed error on anything malformed.
package struct ByteReader {
    private let bytes: [UInt8]
    private(set) var offset = 0

    package init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    package mutating func readByte() throws(KVCodecError) -> UInt8 {
        guard offset < bytes.count else { throw .truncated(offset: offset) }
        defer { offset += 1 }
        return bytes[offset]
    }

    package mutating func readLength() throws(KVCodecError) -> Int {
        let start = offset
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < bytes.count else { throw .truncated(offset: start) }
            let byte = bytes[offset]
            offset += 1
            let bits = UInt64(byte & 0x7F)
            guard shift < 64, shift == 0 || bits >> (64 - shift) == 0 else {
                throw .malformedLength(offset: start)
            }
            value |= bits << shift
            if byte & 0x80 == 0 {
                // A zero final byte after the first is an overlong encoding; rejecting it
                // keeps decoding one-to-one, so equal contents always have equal bytes.
                guard byte != 0 || shift == 0 else { throw .malformedLength(offset: start) }
                break
            }
            shift += 7
        }
        guard value <= UInt64(Int.max) else { throw .malformedLength(offset: start) }
        return Int(value)
    }

    package mutating func readInteger() throws(KVCodecError) -> Int64 {
        guard bytes.count - offset >= 8 else { throw .truncated(offset: offset) }
        var raw: UInt64 = 0
        for byte in bytes[offset..<(offset + 8)] { raw = raw << 8 | UInt64(byte) }
        offset += 8
        return Int64(bitPattern: raw)
    }

    package mutating func readBytes() throws(KVCodecError) -> [UInt8] {
        let start = offset
        let length = try readLength()
        guard length <= bytes.count - offset else { throw .truncated(offset: start) }
        defer { offset += length }
        return Array(bytes[offset..<(offset + length)])
    }

    package mutating func readString() throws(KVCodecError) -> String {
        let start = offset
        let raw = try readBytes()
        guard let string = String(validating: raw, as: UTF8.self) else { throw .invalidKey(offset: start) }
        return string
    }

    package mutating func readOptionalBytes() throws(KVCodecError) -> [UInt8]? {
        let start = offset
        switch try readByte() {
        case 0: return nil
        case 1: return try readBytes()
        case let tag: throw .unknownTag(tag, offset: start)
        }
    }

    package func finish() throws(KVCodecError) {
        guard offset == bytes.count else { throw .trailingBytes(count: bytes.count - offset) }
    }
}
