import RaftCore
import RaftKV
import RaftNIO
import ServiceLifecycle

/// Keeps this node's addresses recorded in the replicated store and the transport's peer
/// addresses in step with the records there (a member's record wins over the flags).
struct MembershipPublisher: Service {
    let processor: CommandProcessor
    let transport: RaftNIOTransport
    let selfID: UInt64

    func run() async throws {
        var applied: [UInt64: String] = [:]
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            if let members = try? await processor.publishMembership() {
                for (id, addresses) in members where id != selfID && applied[id] != addresses.peer {
                    if let address = HostPort.parse(addresses.peer) {
                        transport.setAddress(PeerAddress(host: address.host, port: address.port), of: NodeID(id))
                        applied[id] = addresses.peer
                    }
                }
            }
            try? await Task.sleep(for: .milliseconds(500))
        }
    }
}
