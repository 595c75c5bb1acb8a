/// A command for the replicated key-value store the simulation's clients drive.
public enum KVCommand: Sendable, Hashable {
    /// Sets `key` to `value`.
    case put(key: String, value: [UInt8])
    /// Reads `key`.
    case get(key: String)
    /// Sets `key` to `new` if its value is `expected` (`nil`: if it is absent).
    case compareAndSet(key: String, expected: [UInt8]?, new: [UInt8])

    /// The key the command acts on.
    public var key: String {
        switch self {
        case .put(let key, _), .get(let key), .compareAndSet(let key, _, _): key
        }
    }

    /// Whether the command only reads.
    public var isReadOnly: Bool {
        if case .get = self { true } else { false }
    }

    private enum Tag: UInt8 {
        case put = 1
        case get = 2
        case compareAndSet = 3
    }

    /// The command in the compact binary form Raft entries carry: a tag byte, then the key
    /// and values, each prefixed with its LEB128 length.
    public func encoded() -> [UInt8] {
        var writer = ByteWriter()
        switch self {
        case .put(let key, let value):
            writer.append(Tag.put.rawValue)
            writer.appendString(key)
            writer.appendBytes(value)
        case .get(let key):
            writer.append(Tag.get.rawValue)
            writer.appendString(key)
        case .compareAndSet(let key, let expected, let new):
            writer.append(Tag.compareAndSet.rawValue)
            writer.appendString(key)
            writer.appendOptionalBytes(expected)
            writer.appendBytes(new)
        }
        return writer.bytes
    }

    /// Decodes a command from exactly the bytes `encoded()` produces.
    public init(decoding bytes: [UInt8]) throws(KVCodecError) {
        var reader = ByteReader(bytes)
        let tag = try reader.readByte()
        switch Tag(rawValue: tag) {
        case .put:
            self = .put(key: try reader.readString(), value: try reader.readBytes())
        case .get:
            self = .get(key: try reader.readString())
        case .compareAndSet:
            self = .compareAndSet(
                key: try reader.readString(), expected: try reader.readOptionalBytes(), new: try reader.readBytes())
        case nil:
            throw .unknownTag(tag, offset: 0)
        }
        try reader.finish()
    }
}

extension KVCommand: CustomStringConvertible {
    public var description: String {
        switch self {
        case .put(let key, let value): "put(\(key), \(describe(value)))"
        case .get(let key): "get(\(key))"
        case .compareAndSet(let key, let expected, let new): "cas(\(key), \(describe(expected)) -> \(describe(new)))"
        }
    }
}
