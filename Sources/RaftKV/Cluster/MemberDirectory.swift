/// Where each member listens, kept in the replicated store itself under reserved keys, so
/// that a restarted node or a new member learns the addresses from the log and snapshots,
/// never from flags retyped identically.
///
/// The record of member `id` is the key `"\0raftkv/member/<id>"` holding
/// `"<peer host:port> <client host:port>"`. Clients cannot read or write keys that start
/// with ``reservedPrefix``.
public enum MemberDirectory {
    /// The prefix of every key the server keeps for itself.
    public static let reservedPrefix = "\u{0}raftkv/"

    /// A member's addresses.
    public struct Addresses: Sendable, Hashable {
        /// Where it listens for its peers.
        public var peer: String
        /// Where it listens for clients.
        public var client: String

        /// Creates addresses.
        public init(peer: String, client: String) {
            self.peer = peer
            self.client = client
        }
    }

    /// The key holding member `id`'s record.
    public static func key(of id: UInt64) -> String { reservedPrefix + "member/\(id)" }

    /// The value recording `addresses`.
    public static func value(of addresses: Addresses) -> [UInt8] { Array("\(addresses.peer) \(addresses.client)".utf8) }

    /// Every member's addresses recorded in `store`.
    public static func members(in store: KVStore) -> [UInt64: Addresses] {
        var members: [UInt64: Addresses] = [:]
        let prefix = reservedPrefix + "member/"
        for (key, value) in store.values where key.hasPrefix(prefix) {
            guard let id = UInt64(key.dropFirst(prefix.count)) else { continue }
            let parts = String(decoding: value, as: UTF8.self).split(separator: " ")
            guard parts.count == 2 else { continue }
            members[id] = Addresses(peer: String(parts[0]), client: String(parts[1]))
        }
        return members
    }

    /// Whether `command` may change a member record.
    public static func mayChangeRecords(_ command: KVCommand) -> Bool {
        switch command {
        case .get: false
        case .delete(let keys): keys.contains { !isClientKey($0) }
        case .setMany(let pairs): pairs.contains { !isClientKey($0.key) }
        case .batch(let commands): commands.contains(where: mayChangeRecords)
        default: !isClientKey(command.key)
        }
    }

    /// Whether a client may name `key`.
    public static func isClientKey(_ key: String) -> Bool { !key.hasPrefix(reservedPrefix) }

    /// How many keys of `store` are clients'.
    public static func clientKeyCount(in store: KVStore) -> Int {
        store.count - store.values.keys.filter { !isClientKey($0) }.count
    }
}
