import RaftCore

/// A directed connection between two nodes. Partitions and clogs act on links, so a fault
/// can cut one direction and leave the other working.
public struct Link: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The sending end.
    public var from: NodeID
    /// The receiving end.
    public var to: NodeID

    /// Creates the link that carries messages from `from` to `to`.
    public init(from: NodeID, to: NodeID) {
        self.from = from
        self.to = to
    }

    /// The same pair of nodes, in the other direction.
    public var reversed: Link { Link(from: to, to: from) }

    public static func < (lhs: Link, rhs: Link) -> Bool {
        (lhs.from, lhs.to) < (rhs.from, rhs.to)
    }

    public var description: String { "\(from)->\(to)" }
}
