/// An operator's `RAFTKV.MEMBER` request, parsed:
///
/// - `RAFTKV.MEMBER ADD <id> <peer host:port> <client host:port>`
/// - `RAFTKV.MEMBER REMOVE <id>`
/// - `RAFTKV.MEMBER LIST`
enum MembershipRequest: Sendable, Equatable {
    /// Record the new member's addresses, add it as a learner, let it catch up, promote it.
    case add(id: UInt64, addresses: MemberDirectory.Addresses)
    /// Remove a voter or a learner.
    case remove(id: UInt64)
    /// Every member of the configuration in force, with its role and addresses.
    case list

    init(parsing arguments: [[UInt8]]) throws(CommandError) {
        let words = arguments.map { String(decoding: $0, as: UTF8.self) }
        guard let verb = words.first?.uppercased() else { throw .arity }
        switch verb {
        case "ADD":
            guard words.count == 4 else { throw .reply("ERR syntax: RAFTKV.MEMBER ADD <id> <peer host:port> <client host:port>") }
            let id = try Self.id(words[1])
            for address in words[2...] {
                guard let parsed = HostPort.parse(address), parsed.port != 0 else {
                    throw .reply("ERR '\(address)' is not HOST:PORT with a non-zero port")
                }
            }
            self = .add(id: id, addresses: MemberDirectory.Addresses(peer: words[2], client: words[3]))
        case "REMOVE":
            guard words.count == 2 else { throw .reply("ERR syntax: RAFTKV.MEMBER REMOVE <id>") }
            self = .remove(id: try Self.id(words[1]))
        case "LIST":
            guard words.count == 1 else { throw .reply("ERR syntax: RAFTKV.MEMBER LIST") }
            self = .list
        default:
            throw .reply("ERR unknown subcommand '\(words[0])'; use RAFTKV.MEMBER ADD, REMOVE or LIST")
        }
    }

    private static func id(_ word: String) throws(CommandError) -> UInt64 {
        guard let id = UInt64(word), id != 0 else { throw .reply("ERR member id '\(word)' is not a non-zero integer") }
        return id
    }
}
