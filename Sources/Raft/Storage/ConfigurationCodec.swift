import RaftCore
import WAL

/// Encodes a configuration for a snapshot's metadata, where the runtime keeps the
/// membership in force at the snapshot's index.
///
/// Layout, little-endian: a version byte (1), then three lists (voters, outgoing voters,
/// learners), each a `UInt32` count followed by that many `UInt64` node ids, sorted.
enum ConfigurationCodec {
    static let version: UInt8 = 1
    /// More members than any real cluster has; it bounds what a damaged blob can ask for.
    static let maxMembers = 1 << 16

    static func encode(_ configuration: Configuration) -> [UInt8] {
        var bytes: [UInt8] = [version]
        for members in [configuration.voters, configuration.outgoingVoters, configuration.learners] {
            append(UInt32(members.count), to: &bytes)
            for id in members.sorted() { append(id, to: &bytes) }
        }
        return bytes
    }

    static func decode(_ bytes: [UInt8]) -> Configuration? {
        guard bytes.first == version else { return nil }
        var offset = 1
        var lists: [Set<NodeID>] = []
        for _ in 0..<3 {
            guard let count = read(UInt32.self, bytes, &offset), count <= maxMembers else { return nil }
            var members = Set<NodeID>()
            for _ in 0..<count {
                guard let id = read(UInt64.self, bytes, &offset), id != 0 else { return nil }
                members.insert(id)
            }
            lists.append(members)
        }
        guard offset == bytes.count else { return nil }
        return Configuration(voters: lists[0], outgoingVoters: lists[1], learners: lists[2])
    }

    private static func append<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    private static func read<T: FixedWidthInteger>(_: T.Type, _ bytes: [UInt8], _ offset: inout Int) -> T? {
        let size = MemoryLayout<T>.size
        guard offset + size <= bytes.count else { return nil }
        var value: T = 0
        for position in 0..<size { value |= T(bytes[offset + position]) << (8 * position) }
        offset += size
        return value
    }
}
