/// Writes RESP: replies in RESP2 or RESP3, and requests as arrays of bulk strings.
public enum RESPEncoder {
    /// The protocol a connection speaks: 2 until the client sends `HELLO 3`.
    public enum ProtocolVersion: Int, Sendable, Hashable {
        case resp2 = 2
        case resp3 = 3
    }

    /// Appends `value` to `bytes`, in the form `version` has for it.
    public static func encode(_ value: RESPValue, version: ProtocolVersion, into bytes: inout [UInt8]) {
        switch value {
        case .simpleString(let text):
            line(UInt8(ascii: "+"), text, into: &bytes)
        case .error(let text):
            line(UInt8(ascii: "-"), text, into: &bytes)
        case .integer(let number):
            line(UInt8(ascii: ":"), String(number), into: &bytes)
        case .bulkString(let payload):
            line(UInt8(ascii: "$"), String(payload.count), into: &bytes)
            bytes.append(contentsOf: payload)
            bytes.append(contentsOf: crlf)
        case .null:
            if version == .resp3 {
                bytes.append(contentsOf: Array("_\r\n".utf8))
            } else {
                bytes.append(contentsOf: Array("$-1\r\n".utf8))
            }
        case .array(let elements):
            line(UInt8(ascii: "*"), String(elements.count), into: &bytes)
            for element in elements { encode(element, version: version, into: &bytes) }
        case .map(let elements):
            if version == .resp3 {
                line(UInt8(ascii: "%"), String(elements.count / 2), into: &bytes)
            } else {
                line(UInt8(ascii: "*"), String(elements.count / 2 * 2), into: &bytes)
            }
            for element in elements.prefix(elements.count / 2 * 2) { encode(element, version: version, into: &bytes) }
        case .double(let number):
            if version == .resp3 {
                line(UInt8(ascii: ","), String(number), into: &bytes)
            } else {
                encode(.bulk(String(number)), version: version, into: &bytes)
            }
        case .boolean(let flag):
            if version == .resp3 {
                line(UInt8(ascii: "#"), flag ? "t" : "f", into: &bytes)
            } else {
                encode(.integer(flag ? 1 : 0), version: version, into: &bytes)
            }
        }
    }

    /// Appends a request: `arguments` as an array of bulk strings.
    public static func encodeRequest(_ arguments: [[UInt8]], into bytes: inout [UInt8]) {
        line(UInt8(ascii: "*"), String(arguments.count), into: &bytes)
        for argument in arguments {
            line(UInt8(ascii: "$"), String(argument.count), into: &bytes)
            bytes.append(contentsOf: argument)
            bytes.append(contentsOf: crlf)
        }
    }

    private static let crlf: [UInt8] = [0x0D, 0x0A]

    // Simple strings and errors cannot hold a line break: one would end the value early.
    private static func line(_ marker: UInt8, _ text: String, into bytes: inout [UInt8]) {
        bytes.append(marker)
        for byte in text.utf8 { bytes.append(byte == 0x0D || byte == 0x0A ? 0x20 : byte) }
        bytes.append(contentsOf: crlf)
    }
}
