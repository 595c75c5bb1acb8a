/// Why bytes from a peer are not valid RESP. A server answers it with
/// `-ERR Protocol error: <description>` and closes that one connection.
public enum RESPProtocolError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A byte where a type marker was expected.
    case unexpectedByte(UInt8)
    /// A length or integer field that is not a decimal number in range.
    case invalidNumber
    /// A bulk string longer than the limit (or negative where not allowed).
    case invalidBulkLength
    /// An array with more elements than the limit (or negative where not allowed).
    case invalidArrayLength
    /// A line (inline command, header, simple value) longer than the limit without its end.
    case lineTooLong
    /// A bulk string not followed by CRLF.
    case missingCRLF
    /// Arrays nested deeper than the limit.
    case nestingTooDeep
    /// An inline command with an unbalanced quote.
    case unbalancedQuotes

    public var description: String {
        switch self {
        case .unexpectedByte(let byte): "expected '$', got '\(Character(Unicode.Scalar(byte)))'"
        case .invalidNumber: "invalid number"
        case .invalidBulkLength: "invalid bulk length"
        case .invalidArrayLength: "invalid multibulk length"
        case .lineTooLong: "too big inline request"
        case .missingCRLF: "expected CRLF after bulk string"
        case .nestingTooDeep: "nesting too deep"
        case .unbalancedQuotes: "unbalanced quotes in request"
        }
    }
}
