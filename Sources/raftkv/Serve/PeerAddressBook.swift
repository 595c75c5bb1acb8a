import RaftCore
import RaftKV
import RaftNIO
import Synchronization

/// Points the transport at the peer addresses the member records hold, as this node applies
/// them (a record wins over `--peers`): after a restart, or once a joining node has its first
/// snapshot, it can answer a leader that no flag named.
final class PeerAddressBook: Sendable {
    private let transport: RaftNIOTransport
    private let selfID: UInt64
    private let applied = Mutex<[UInt64: String]>([:])

    init(transport: RaftNIOTransport, selfID: UInt64) {
        self.transport = transport
        self.selfID = selfID
    }

    /// Gives the transport every address in `members` that changed since the last call.
    func update(_ members: [UInt64: MemberDirectory.Addresses]) {
        let changed = applied.withLock { applied in
            var changed: [(NodeID, PeerAddress)] = []
            for (id, addresses) in members where id != selfID && applied[id] != addresses.peer {
                guard let address = HostPort.parse(addresses.peer) else { continue }
                changed.append((id, PeerAddress(host: address.host, port: address.port)))
                applied[id] = addresses.peer
            }
            return changed
        }
        for (id, address) in changed { transport.setAddress(address, of: id) }
    }
}
