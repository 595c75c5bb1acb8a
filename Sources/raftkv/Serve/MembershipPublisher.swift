import RaftKV
import ServiceLifecycle

/// Keeps this node's addresses recorded in the replicated store, and the processor's view of
/// every member's addresses (for forwarding and `INFO`) fresh, with a linearizable read every
/// half second.
struct MembershipPublisher: Service {
    let processor: CommandProcessor

    func run() async throws {
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            _ = try? await processor.publishMembership()
            try? await Task.sleep(for: .milliseconds(500))
        }
    }
}
