/// Decodes the commands a client sends, incrementally: bytes go in as they arrive, in pieces
/// of any size, and each complete command comes out as its arguments.
///
/// Accepts RESP arrays of bulk strings (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`) and inline
/// commands (`GET k\r\n`, with Redis's quoting). Every length is checked against
/// ``RESPLimits`` before anything is buffered for it; a violation is a
/// ``RESPProtocolError``, after which the decoder must not be used again.
public struct RESPRequestDecoder: Sendable {
    /// The limits in force.
    public let limits: RESPLimits
    private var buffer: [UInt8] = []
    private var start = 0

    /// Creates a decoder with `limits`.
    public init(limits: RESPLimits = RESPLimits()) {
        self.limits = limits
    }

    /// Bytes received and not yet decoded into a command.
    public var bufferedBytes: Int { buffer.count - start }

    /// Adds received bytes.
    public mutating func append(_ bytes: some Sequence<UInt8>) {
        if start > 0, start >= buffer.count / 2 {
            buffer.removeFirst(start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete command's arguments, or nil until more bytes arrive.
    /// - Throws: ``RESPProtocolError`` when the bytes are not a valid request.
    public mutating func next() throws(RESPProtocolError) -> [[UInt8]]? {
        while start < buffer.count {
            var scanner = ByteScanner(bytes: buffer, offset: start, maxLineLength: limits.maxLineLength)
            let command: [[UInt8]]?
            if buffer[start] == UInt8(ascii: "*") {
                command = try multibulk(&scanner)
            } else {
                command = try inline(&scanner)
            }
            guard let command else { return nil }
            start = scanner.offset
            // An empty array or a blank line is no command; Redis skips it.
            if !command.isEmpty { return command }
        }
        return nil
    }

    private func multibulk(_ scanner: inout ByteScanner) throws(RESPProtocolError) -> [[UInt8]]? {
        guard let header = try scanner.line() else { return nil }
        guard let count = ByteScanner.integer(header.dropFirst()) else { throw .invalidArrayLength }
        guard count <= limits.maxArrayLength else { throw .invalidArrayLength }
        guard count > 0 else { return [] }
        var arguments: [[UInt8]] = []
        arguments.reserveCapacity(Int(min(count, 1024)))
        for _ in 0..<count {
            guard scanner.offset < buffer.count else { return nil }
            let marker = buffer[scanner.offset]
            guard marker == UInt8(ascii: "$") else { throw .unexpectedByte(marker) }
            guard let lengthLine = try scanner.line() else { return nil }
            guard let length = ByteScanner.integer(lengthLine.dropFirst()), length >= 0,
                length <= limits.maxBulkLength
            else { throw .invalidBulkLength }
            guard let argument = try scanner.bulk(count: Int(length)) else { return nil }
            arguments.append(argument)
        }
        return arguments
    }

    private func inline(_ scanner: inout ByteScanner) throws(RESPProtocolError) -> [[UInt8]]? {
        guard let line = try scanner.line() else { return nil }
        return try Self.splitInline(line)
    }

    /// Splits an inline command into arguments as Redis's `sdssplitargs` does: blanks
    /// separate, double quotes allow `\n`, `\t`, `\xHH` escapes, single quotes allow `\'`.
    static func splitInline(_ line: ArraySlice<UInt8>) throws(RESPProtocolError) -> [[UInt8]] {
        var arguments: [[UInt8]] = []
        var index = line.startIndex
        func isBlank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A }
        while true {
            while index < line.endIndex, isBlank(line[index]) { index += 1 }
            guard index < line.endIndex else { return arguments }
            var current: [UInt8] = []
            let quote: UInt8? = line[index] == UInt8(ascii: "\"") || line[index] == UInt8(ascii: "'") ? line[index] : nil
            if quote != nil { index += 1 }
            while true {
                guard index < line.endIndex else {
                    if quote != nil { throw .unbalancedQuotes }
                    break
                }
                let byte = line[index]
                if let quote {
                    if byte == quote {
                        index += 1
                        // A closing quote must be followed by a blank or the end.
                        guard index == line.endIndex || isBlank(line[index]) else { throw .unbalancedQuotes }
                        break
                    }
                    if byte == UInt8(ascii: "\\"), index + 1 < line.endIndex {
                        let escaped = line[index + 1]
                        if quote == UInt8(ascii: "'") {
                            if escaped == UInt8(ascii: "'") {
                                current.append(escaped)
                                index += 2
                                continue
                            }
                        } else if escaped == UInt8(ascii: "x"), index + 3 < line.endIndex,
                            let high = hexValue(line[index + 2]), let low = hexValue(line[index + 3])
                        {
                            current.append(high << 4 | low)
                            index += 4
                            continue
                        } else {
                            switch escaped {
                            case UInt8(ascii: "n"): current.append(0x0A)
                            case UInt8(ascii: "r"): current.append(0x0D)
                            case UInt8(ascii: "t"): current.append(0x09)
                            case UInt8(ascii: "b"): current.append(0x08)
                            case UInt8(ascii: "a"): current.append(0x07)
                            default: current.append(escaped)
                            }
                            index += 2
                            continue
                        }
                    }
                    current.append(byte)
                    index += 1
                } else {
                    if isBlank(byte) { break }
                    current.append(byte)
                    index += 1
                }
            }
            arguments.append(current)
        }
    }

    private static func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
