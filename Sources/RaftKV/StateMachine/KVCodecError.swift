/// Why bytes could not be decoded as a key-value command, result or snapshot.
public enum KVCodecError: Error, Sendable, Hashable {
    /// The bytes ended in the middle of a field that starts at `offset`.
    case truncated(offset: Int)
    /// The tag byte at `offset` names no known case.
    case unknownTag(UInt8, offset: Int)
    /// The length prefix at `offset` does not fit in 64 bits, or not in an `Int`.
    case malformedLength(offset: Int)
    /// The key at `offset` is not valid UTF-8.
    case invalidKey(offset: Int)
    /// Bytes were left over after a complete value.
    case trailingBytes(count: Int)
    /// The snapshot does not start with the expected magic number and version.
    case notASnapshot
    /// The snapshot holds `key` twice.
    case duplicateKey(String)
}
