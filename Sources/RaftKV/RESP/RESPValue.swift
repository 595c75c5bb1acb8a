/// One value of the Redis serialization protocol (RESP2, and the RESP3 types a server sends
/// after `HELLO 3`): what a server replies and what ``RESPClient`` returns.
public enum RESPValue: Sendable, Hashable {
    /// A simple string (`+OK`).
    case simpleString(String)
    /// An error reply (`-ERR …`): the whole line after the `-`, its code first.
    case error(String)
    /// An integer (`:42`).
    case integer(Int64)
    /// A bulk string (`$3\r\nfoo`): arbitrary bytes.
    case bulkString([UInt8])
    /// The null value: RESP2's null bulk string or null array (`$-1`, `*-1`), RESP3's `_`.
    case null
    /// An array of values; RESP3 sets and pushes are read as arrays too.
    case array([RESPValue])
    /// A RESP3 map, as alternating keys and values; sent as a flat array in RESP2.
    case map([RESPValue])
    /// A RESP3 double; sent as a bulk string in RESP2.
    case double(Double)
    /// A RESP3 boolean; sent as the integer 1 or 0 in RESP2.
    case boolean(Bool)

    /// A bulk string holding `text` in UTF-8.
    public static func bulk(_ text: String) -> RESPValue { .bulkString(Array(text.utf8)) }

    /// The `+OK` reply.
    public static let ok = RESPValue.simpleString("OK")

    /// A simple string's or bulk string's text (bulk bytes decoded as UTF-8, repairing
    /// invalid sequences), or nil for other values.
    public var text: String? {
        switch self {
        case .simpleString(let text): text
        case .bulkString(let bytes): String(decoding: bytes, as: UTF8.self)
        default: nil
        }
    }

    /// Whether this is an error reply.
    public var isError: Bool {
        if case .error = self { true } else { false }
    }
}
