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
        }
    }

    private static let magic: [UInt8] = Array("KVS1".utf8)

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
