/// What applying a ``KVCommand`` returned.
public enum KVResult: Sendable, Hashable {
    /// A `get`'s answer: the key's value, or `nil` when it is absent.
    case value([UInt8]?)
    /// A `put`, or a `compareAndSet` that found the expected value.
    case ok
    /// A `compareAndSet` that found `current` instead of the expected value.
    case casFailed(current: [UInt8]?)
    /// An integer: a counter's new value, a count of keys, a new length.
    case integer(Int64)
    /// The command was refused by the store, deterministically on every replica (a value
    /// that is not an integer, an overflow, a value beyond the size limit): Redis's wording.
    case error(String)
    /// A batch's results, one per command, in order.
    indirect case batch([KVResult])

    private enum Tag: UInt8 {
        case value = 1
        case ok = 2
        case casFailed = 3
        case integer = 4
        case error = 5
        case batch = 6
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
        case .integer(let value):
            writer.append(Tag.integer.rawValue)
            writer.appendInteger(value)
        case .error(let message):
            writer.append(Tag.error.rawValue)
            writer.appendString(message)
        case .batch(let results):
            writer.append(Tag.batch.rawValue)
            writer.appendLength(results.count)
            for result in results { writer.appendBytes(result.encoded()) }
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
        case .integer: self = .integer(try reader.readInteger())
        case .error: self = .error(try reader.readString())
        case .batch:
            let count = try reader.readLength()
            guard count <= bytes.count else { throw .malformedLength(offset: 1) }
            var results: [KVResult] = []
            for _ in 0..<count { results.append(try KVResult(decoding: try reader.readBytes())) }
            self = .batch(results)
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
        case .integer(let value): "\(value)"
        case .error(let message): "error(\(message))"
        case .batch(let results): "batch(\(results.map(\.description).joined(separator: "; ")))"
        }
    }
}
