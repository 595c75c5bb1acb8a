import RaftCore

/// Carries envelopes between nodes.
///
/// `send` must not block and may lose, delay, duplicate or reorder envelopes: Raft tolerates
/// all of that. A node hands over everything one `Ready` produced in one call, so a network
/// transport can queue the whole batch and flush each peer's connection once.
///
/// Received envelopes go to the node's ``EnvelopeSink/receive(_:)``; a transport that gives
/// up on a peer (its queue is full, its connection is down) says so with
/// ``EnvelopeSink/reportUnreachable(_:)``, so the leader stops pipelining appends into the void.
public protocol Transport {
    /// Queues `envelopes` for delivery, each to its `to`, in order per peer.
    func send(_ envelopes: [Envelope])
}

/// Where a transport delivers what arrives for a node: `RaftNode` is one.
public protocol EnvelopeSink: AnyObject, Sendable {
    /// Hands the node an envelope another node sent it. Never blocks; a node whose inbox is
    /// full drops it and counts the drop (Raft tolerates loss).
    func receive(_ envelope: Envelope)

    /// Tells the node that envelopes to `peer` were probably lost (a full queue, a broken
    /// connection), so a leader probes `peer` again instead of pipelining appends to it.
    func reportUnreachable(_ peer: NodeID)
}
