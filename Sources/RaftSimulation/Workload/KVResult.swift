/// What applying a ``KVCommand`` returned.
public enum KVResult: Sendable, Hashable {
    /// A `get`'s answer: the key's value, or `nil` when it is absent.
    case value([UInt8]?)
    /// A `put`, or a `compareAndSet` that found the expected value.
    case ok
    /// A `compareAndSet` that found `current` instead of the expected value.
    case casFailed(current: [UInt8]?)

    private enum Tag: UInt8 {
        case value = 1
        case ok = 2
        case casFailed = 3
    }

    /// The result in binary form: a tag byte, then any value with a presence flag.
    public func encoded() -> [UInt8] {
        var writer = ByteWriter()
        switch self {
        case .value(let value):
            writer.append(Tag.value.rawValue)
            writer.appendOptionalBytes(value)
        case .ok:
            writer.append(Tag.ok.rawValue)
        case .casFailed(let current):
            writer.append(Tag.casFailed.rawValue)
            writer.appendOptionalBytes(current)
        }
        return writer.bytes
    }

    /// Decodes a result from exactly the bytes `encoded()` produces.
    public init(decoding bytes: [UInt8]) throws(KVCodecError) {
        var reader = ByteReader(bytes)
        let tag = try reader.readByte()
        switch Tag(rawValue: tag) {
        case .value: self = .value(try reader.readOptionalBytes())
        case .ok: self = .ok
        case .casFailed: self = .casFailed(current: try reader.readOptionalBytes())
        case nil: throw .unknownTag(tag, offset: 0)
        }
        try reader.finish()
    }
}

extension KVResult: CustomStringConvertible {
    public var description: String {
        switch self {
        case .value(let value): describe(value)
        case .ok: "ok"
        case .casFailed(let current): "casFailed(\(describe(current)))"
        }
    }
}
