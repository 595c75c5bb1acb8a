/// Carries envelopes between nodes.
///
/// `send` must not block and may lose, delay, duplicate or reorder envelopes: Raft tolerates
/// all of that. Received envelopes are handed to `RaftNode.receive(_:)`.
public protocol Transport {
    /// Queues `envelope` for delivery to `envelope.to`.
    func send(_ envelope: Envelope)
}
