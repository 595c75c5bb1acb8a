/// Decodes a server's replies, incrementally: RESP2 and RESP3 types, across reads of any
/// size, with every length checked against ``RESPLimits`` before it is buffered.
public struct RESPReplyDecoder: Sendable {
    /// The limits in force.
    public let limits: RESPLimits
    private var buffer: [UInt8] = []
    private var start = 0

    /// Creates a decoder with `limits`.
    public init(limits: RESPLimits = RESPLimits()) {
        self.limits = limits
    }

    /// Adds received bytes.
    public mutating func append(_ bytes: some Sequence<UInt8>) {
        if start > 0, start >= buffer.count / 2 {
            buffer.removeFirst(start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete reply, or nil until more bytes arrive.
    /// - Throws: ``RESPProtocolError`` when the bytes are not valid RESP.
    public mutating func next() throws(RESPProtocolError) -> RESPValue? {
        guard start < buffer.count else { return nil }
        var scanner = ByteScanner(bytes: buffer, offset: start, maxLineLength: limits.maxLineLength)
        guard let value = try value(&scanner, depth: 0) else { return nil }
        start = scanner.offset
        return value
    }

    private func value(_ scanner: inout ByteScanner, depth: Int) throws(RESPProtocolError) -> RESPValue? {
        guard depth <= limits.maxDepth else { throw .nestingTooDeep }
        guard scanner.offset < buffer.count else { return nil }
        let marker = buffer[scanner.offset]
        guard let line = try scanner.line() else { return nil }
        let body = line.dropFirst()
        switch marker {
        case UInt8(ascii: "+"):
            return .simpleString(String(decoding: body, as: UTF8.self))
        case UInt8(ascii: "-"):
            return .error(String(decoding: body, as: UTF8.self))
        case UInt8(ascii: ":"):
            guard let number = ByteScanner.integer(body) else { throw .invalidNumber }
            return .integer(number)
        case UInt8(ascii: "_"):
            return .null
        case UInt8(ascii: "#"):
            return .boolean(body.first == UInt8(ascii: "t"))
        case UInt8(ascii: ","):
            guard let number = Double(String(decoding: body, as: UTF8.self)) else { throw .invalidNumber }
            return .double(number)
        case UInt8(ascii: "("):
            return .simpleString(String(decoding: body, as: UTF8.self))
        case UInt8(ascii: "$"), UInt8(ascii: "="), UInt8(ascii: "!"):
            guard let length = ByteScanner.integer(body), length >= -1, length <= limits.maxBulkLength else {
                throw .invalidBulkLength
            }
            if length == -1 { return .null }
            guard var bytes = try scanner.bulk(count: Int(length)) else { return nil }
            if marker == UInt8(ascii: "!") { return .error(String(decoding: bytes, as: UTF8.self)) }
            // A verbatim string starts with its three-letter format and a colon.
            if marker == UInt8(ascii: "="), bytes.count >= 4 { bytes.removeFirst(4) }
            return .bulkString(bytes)
        case UInt8(ascii: "*"), UInt8(ascii: "~"), UInt8(ascii: ">"), UInt8(ascii: "%"), UInt8(ascii: "|"):
            guard let count = ByteScanner.integer(body), count >= -1, count <= limits.maxArrayLength else {
                throw .invalidArrayLength
            }
            if count == -1 { return .null }
            let isMap = marker == UInt8(ascii: "%") || marker == UInt8(ascii: "|")
            let elements = isMap ? Int(count) * 2 : Int(count)
            var values: [RESPValue] = []
            values.reserveCapacity(min(elements, 1024))
            for _ in 0..<elements {
                guard let element = try value(&scanner, depth: depth + 1) else { return nil }
                values.append(element)
            }
            // An attribute (`|`) annotates the value after it; the value is what counts.
            if marker == UInt8(ascii: "|") { return try value(&scanner, depth: depth) }
            return isMap ? .map(values) : .array(values)
        default:
            throw .unexpectedByte(marker)
        }
    }
}
