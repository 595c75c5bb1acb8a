import RaftCore

/// A message the simulated network hands to its destination.
public struct Delivery<Payload: Sendable>: Sendable {
    /// The sender.
    public var from: NodeID
    /// The destination.
    public var to: NodeID
    /// What was sent.
    public var payload: Payload
    /// The tick at which the message was sent.
    public var sentAt: UInt64
    /// The tick at which the message became due; it is delivered at the first
    /// `deliver(at:)` call at or after this tick.
    public var dueAt: UInt64
    /// A number unique to this copy of the message, increasing in send order; duplicates
    /// get their own number. It breaks ties between messages due at the same tick.
    public var sequence: UInt64
}
