/// The replicated state machine the simulation's workload runs: a map from string keys to
/// byte values.
///
/// Every replica that applies the same commands in the same order ends with the same
/// ``snapshotBytes()`` and ``digest``, whatever order its dictionary iterates in.
public struct KVStore: Sendable, Hashable {
    /// The stored values, by key.
    public private(set) var values: [String: [UInt8]] = [:]

    /// Creates an empty store.
    public init() {}

    /// The longest value a command may leave under a key; longer results are refused, the
    /// same way on every replica.
    public static let maxValueBytes = 1 << 20
    /// The longest key accepted.
    public static let maxKeyBytes = 16 << 10

    /// How many keys the store holds.
    public var count: Int { values.count }

    /// The value stored under `key`, if any.
    public subscript(key: String) -> [UInt8]? { values[key] }

    /// Applies one command and returns its result.
    @discardableResult
    public mutating func apply(_ command: KVCommand) -> KVResult {
        switch command {
        case .put(let key, let value):
            values[key] = value
            return .ok
        case .get(let key):
            return .value(values[key])
        case .compareAndSet(let key, let expected, let new):
            let current = values[key]
            guard current == expected else { return .casFailed(current: current) }
            values[key] = new
            return .ok
        case .set(let key, let value, let condition, let returnOld):
            let current = values[key]
            let allowed =
                switch condition {
                case .always: true
                case .ifAbsent: current == nil
                case .ifPresent: current != nil
                }
            if allowed { values[key] = value }
            if returnOld { return .value(current) }
            return allowed ? .ok : .value(nil)
        case .delete(let keys):
            var removed: Int64 = 0
            for key in keys where values.removeValue(forKey: key) != nil { removed += 1 }
            return .integer(removed)
        case .increment(let key, let amount):
            var current: Int64 = 0
            if let bytes = values[key] {
                guard let parsed = Self.integer(bytes) else { return .error("ERR value is not an integer or out of range") }
                current = parsed
            }
            let (sum, overflow) = current.addingReportingOverflow(amount)
            guard !overflow else { return .error("ERR increment or decrement would overflow") }
            values[key] = Array(String(sum).utf8)
            return .integer(sum)
        case .append(let key, let value):
            let current = values[key] ?? []
            guard current.count + value.count <= Self.maxValueBytes else {
                return .error("ERR string exceeds maximum allowed size (\(Self.maxValueBytes) bytes)")
            }
            values[key] = current + value
            return .integer(Int64(current.count + value.count))
        case .setMany(let pairs):
            for pair in pairs { values[pair.key] = pair.value }
            return .ok
        case .getSet(let key, let value):
            let current = values[key]
            values[key] = value
            return .value(current)
        case .batch(let commands):
            return .batch(commands.map { apply($0) })
        }
    }

    /// The decimal integer `bytes` spell, as Redis accepts it for `INCR`: an optional minus
    /// sign and digits, no leading zeros or plus sign, in the range of `Int64`.
    static func integer(_ bytes: [UInt8]) -> Int64? {
        guard let text = String(validating: bytes, as: UTF8.self), let value = Int64(text),
            String(value) == text
        else { return nil }
        return value
    }

    fileprivate static let magic: [UInt8] = Array("KVS1".utf8)

    /// The store's contents in a canonical binary form: a magic number and version, the
    /// entry count, then each key and value, keys in UTF-8 byte order.
    public func snapshotBytes() -> [UInt8] {
        var writer = ByteWriter()
        for byte in Self.magic { writer.append(byte) }
        writer.appendLength(values.count)
        for key in sortedKeys {
            writer.appendString(key)
            writer.appendBytes(values[key]!)
        }
        return writer.bytes
    }

    /// ``snapshotBytes()`` cut into chunks of about `chunkBytes`, made one at a time as they
    /// are taken, so a snapshot is never held whole beside the store.
    public func snapshotChunks(chunkBytes: Int) -> SnapshotChunks {
        SnapshotChunks(store: self, keys: sortedKeys, chunkBytes: max(1, chunkBytes))
    }

    /// The chunks of a store's snapshot, in order.
    public struct SnapshotChunks: Sequence, IteratorProtocol {
        let store: KVStore
        let keys: [String]
        let chunkBytes: Int
        var position = 0
        var wroteHeader = false

        public mutating func next() -> [UInt8]? {
            var writer = ByteWriter()
            if !wroteHeader {
                wroteHeader = true
                for byte in KVStore.magic { writer.append(byte) }
                writer.appendLength(store.values.count)
            } else if position == keys.count {
                return nil
            }
            while position < keys.count, writer.bytes.count < chunkBytes {
                writer.appendString(keys[position])
                writer.appendBytes(store.values[keys[position]] ?? [])
                position += 1
            }
            return writer.bytes
        }
    }

    /// Restores a store from ``snapshotBytes()``.
    public init(snapshotBytes bytes: [UInt8]) throws(KVCodecError) {
        var reader = ByteReader(bytes)
        for byte in Self.magic {
            guard try reader.readByte() == byte else { throw .notASnapshot }
        }
        let count = try reader.readLength()
        for _ in 0..<count {
            let key = try reader.readString()
            let value = try reader.readBytes()
            guard values.updateValue(value, forKey: key) == nil else { throw .duplicateKey(key) }
        }
        try reader.finish()
    }

    /// A 64-bit FNV-1a hash of ``snapshotBytes()``, for comparing replicas cheaply.
    public var digest: UInt64 {
        fnv1a(snapshotBytes())
    }

    private var sortedKeys: [String] {
        values.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }
}
