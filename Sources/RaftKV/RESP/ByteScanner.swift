/// Reads RESP lines and numbers from a byte buffer, reporting "not yet" (nil) when the bytes
/// end first, so decoders can retry once more bytes arrive.
struct ByteScanner {
    let bytes: [UInt8]
    var offset: Int
    let maxLineLength: Int

    /// The bytes up to the next CRLF (or LF alone, as Redis accepts inline), after which
    /// `offset` points; nil when no line end has arrived yet.
    mutating func line() throws(RESPProtocolError) -> ArraySlice<UInt8>? {
        let limit = min(bytes.count, offset + maxLineLength + 2)
        var index = offset
        while index < limit {
            if bytes[index] == UInt8(ascii: "\n") {
                var end = index
                if end > offset, bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                defer { offset = index + 1 }
                return bytes[offset..<end]
            }
            index += 1
        }
        if bytes.count - offset > maxLineLength + 1 { throw .lineTooLong }
        return nil
    }

    /// `count` bytes followed by CRLF, or nil when they have not all arrived.
    mutating func bulk(count: Int) throws(RESPProtocolError) -> [UInt8]? {
        guard bytes.count - offset >= count + 2 else { return nil }
        guard bytes[offset + count] == UInt8(ascii: "\r"), bytes[offset + count + 1] == UInt8(ascii: "\n") else {
            throw .missingCRLF
        }
        defer { offset += count + 2 }
        return Array(bytes[offset..<(offset + count)])
    }

    /// The decimal integer `digits` spells (an optional minus sign, then 1 to 19 digits).
    static func integer(_ digits: ArraySlice<UInt8>) -> Int64? {
        var rest = digits
        var negative = false
        if rest.first == UInt8(ascii: "-") {
            negative = true
            rest = rest.dropFirst()
        } else if rest.first == UInt8(ascii: "+") {
            rest = rest.dropFirst()
        }
        guard !rest.isEmpty, rest.count <= 19 else { return nil }
        var value: Int64 = 0
        for digit in rest {
            guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") else { return nil }
            let (times, overflowTimes) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflowSum) = times.addingReportingOverflow(Int64(digit - UInt8(ascii: "0")))
            guard !overflowTimes, !overflowSum else { return nil }
            value = sum
        }
        return negative ? -value : value
    }
}
