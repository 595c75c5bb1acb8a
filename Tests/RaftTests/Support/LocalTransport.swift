import RaftCore
import Raft
import Synchronization

/// Delivers envelopes straight into the addressed node's inbox, for `RaftNode`s in one process.
final class LocalTransport: Transport, Sendable {
    let nodes = Mutex<[NodeID: any EnvelopeSink]>([:])
    /// While set, every envelope is lost.
    let cut = Atomic<Bool>(false)

    func send(_ envelopes: [Envelope]) {
        guard !cut.load(ordering: .relaxed) else { return }
        for envelope in envelopes { nodes.withLock { $0[envelope.to] }?.receive(envelope) }
    }

    /// Addresses `nodes` by their ids.
    func connect(_ nodes: [NodeID: some EnvelopeSink]) {
        self.nodes.withLock { $0 = nodes.mapValues { $0 } }
    }
}
