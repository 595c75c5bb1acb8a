/// A command for the replicated key-value store: what a Raft entry carries.
public enum KVCommand: Sendable, Hashable {
    /// Sets `key` to `value`.
    case put(key: String, value: [UInt8])
    /// Reads `key`.
    case get(key: String)
    /// Sets `key` to `new` if its value is `expected` (`nil`: if it is absent).
    case compareAndSet(key: String, expected: [UInt8]?, new: [UInt8])
    /// Redis's `SET` with its options: only if absent (`NX`) or present (`XX`), and
    /// returning the old value (`GET`).
    case set(key: String, value: [UInt8], condition: SetCondition, returnOld: Bool)
    /// Removes `keys`; answers how many existed.
    case delete(keys: [String])
    /// Adds `amount` to the decimal integer stored at `key` (absent counts as 0).
    case increment(key: String, by: Int64)
    /// Appends `value` to the value at `key`; answers the new length.
    case append(key: String, value: [UInt8])
    /// Sets every pair, in order.
    case setMany([KeyValue])
    /// Sets `key` to `value` and answers the old value.
    case getSet(key: String, value: [UInt8])
    /// Several commands applied in order as one entry, answered with one result each
    /// (a pipeline's writes).
    indirect case batch([KVCommand])

    /// When a `set` takes effect.
    public enum SetCondition: UInt8, Sendable, Hashable {
        /// Always.
        case always = 0
        /// Only if the key is absent (`NX`).
        case ifAbsent = 1
        /// Only if the key is present (`XX`).
        case ifPresent = 2
    }

    /// One key and its value.
    public struct KeyValue: Sendable, Hashable {
        /// The key.
        public var key: String
        /// The value.
        public var value: [UInt8]

        /// Creates a pair.
        public init(key: String, value: [UInt8]) {
            self.key = key
            self.value = value
        }
    }

    /// The key the command acts on (for a command on several keys, the first; histories are
    /// checked per key and only hold single-key commands).
    public var key: String {
        switch self {
        case .put(let key, _), .get(let key), .compareAndSet(let key, _, _), .set(let key, _, _, _),
            .increment(let key, _), .append(let key, _), .getSet(let key, _):
            key
        case .delete(let keys): keys.first ?? ""
        case .setMany(let pairs): pairs.first?.key ?? ""
        case .batch(let commands): commands.first?.key ?? ""
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
        case set = 4
        case delete = 5
        case increment = 6
        case append = 7
        case setMany = 8
        case getSet = 9
        case batch = 10
    }

    /// The command in the compact binary form Raft entries carry: a tag byte, then the key
    /// and values, each prefixed with its LEB128 length.
    public func encoded() -> [UInt8] {
        var writer = ByteWriter()
        encode(into: &writer)
        return writer.bytes
    }

    private func encode(into writer: inout ByteWriter) {
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
        case .set(let key, let value, let condition, let returnOld):
            writer.append(Tag.set.rawValue)
            writer.appendString(key)
            writer.appendBytes(value)
            writer.append(condition.rawValue)
            writer.append(returnOld ? 1 : 0)
        case .delete(let keys):
            writer.append(Tag.delete.rawValue)
            writer.appendLength(keys.count)
            for key in keys { writer.appendString(key) }
        case .increment(let key, let amount):
            writer.append(Tag.increment.rawValue)
            writer.appendString(key)
            writer.appendInteger(amount)
        case .append(let key, let value):
            writer.append(Tag.append.rawValue)
            writer.appendString(key)
            writer.appendBytes(value)
        case .setMany(let pairs):
            writer.append(Tag.setMany.rawValue)
            writer.appendLength(pairs.count)
            for pair in pairs {
                writer.appendString(pair.key)
                writer.appendBytes(pair.value)
            }
        case .getSet(let key, let value):
            writer.append(Tag.getSet.rawValue)
            writer.appendString(key)
            writer.appendBytes(value)
        case .batch(let commands):
            writer.append(Tag.batch.rawValue)
            writer.appendLength(commands.count)
            for command in commands { writer.appendBytes(command.encoded()) }
        }
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
        case .set:
            let key = try reader.readString()
            let value = try reader.readBytes()
            let conditionOffset = reader.offset
            let conditionByte = try reader.readByte()
            guard let condition = SetCondition(rawValue: conditionByte) else {
                throw .unknownTag(conditionByte, offset: conditionOffset)
            }
            let flagOffset = reader.offset
            let flag = try reader.readByte()
            guard flag <= 1 else { throw .unknownTag(flag, offset: flagOffset) }
            self = .set(key: key, value: value, condition: condition, returnOld: flag == 1)
        case .delete:
            let count = try reader.readLength()
            guard count <= bytes.count else { throw .malformedLength(offset: 1) }
            var keys: [String] = []
            for _ in 0..<count { keys.append(try reader.readString()) }
            self = .delete(keys: keys)
        case .increment:
            let key = try reader.readString()
            self = .increment(key: key, by: try reader.readInteger())
        case .append:
            self = .append(key: try reader.readString(), value: try reader.readBytes())
        case .setMany:
            let count = try reader.readLength()
            guard count <= bytes.count else { throw .malformedLength(offset: 1) }
            var pairs: [KeyValue] = []
            for _ in 0..<count { pairs.append(KeyValue(key: try reader.readString(), value: try reader.readBytes())) }
            self = .setMany(pairs)
        case .getSet:
            self = .getSet(key: try reader.readString(), value: try reader.readBytes())
        case .batch:
            let count = try reader.readLength()
            guard count <= bytes.count else { throw .malformedLength(offset: 1) }
            var commands: [KVCommand] = []
            for _ in 0..<count {
                let inner = try KVCommand(decoding: try reader.readBytes())
                // One level only: a batch inside a batch is no command a server sends.
                if case .batch = inner { throw .unknownTag(Tag.batch.rawValue, offset: reader.offset) }
                commands.append(inner)
            }
            self = .batch(commands)
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
        case .set(let key, let value, let condition, let returnOld):
            "set(\(key), \(describe(value)), \(condition), get: \(returnOld))"
        case .delete(let keys): "del(\(keys.joined(separator: ", ")))"
        case .increment(let key, let amount): "incrby(\(key), \(amount))"
        case .append(let key, let value): "append(\(key), \(describe(value)))"
        case .setMany(let pairs): "mset(\(pairs.map { "\($0.key)=\(describe($0.value))" }.joined(separator: ", ")))"
        case .getSet(let key, let value): "getset(\(key), \(describe(value)))"
        case .batch(let commands): "batch(\(commands.map(\.description).joined(separator: "; ")))"
        }
    }
}
