/// The kinds of fault the simulated network injects, as counted in
/// ``SimulatedNetwork/faultCounts``.
public enum NetworkFaultKind: String, Sendable, Hashable, CaseIterable, Comparable {
    /// A message dropped at random.
    case loss
    /// An extra copy of a message.
    case duplication
    /// A message given extra delay, so that later messages may overtake it.
    case reordering
    /// A message dropped because its link was cut by a partition.
    case blocked
    /// A message dropped because the network's queue was full.
    case overflow
    /// A message a paused node tried to send, dropped.
    case pausedSend
    /// A symmetric partition put in place.
    case partition
    /// An asymmetric (one-way) partition put in place.
    case asymmetricPartition
    /// A node cut off from every other node.
    case isolation
    /// A link clogged: its messages are held until it is unclogged.
    case clog
    /// A node paused, as a frozen virtual machine.
    case pause
    /// A return to a fully connected network with no clogs and no paused nodes.
    case heal

    public static func < (lhs: NetworkFaultKind, rhs: NetworkFaultKind) -> Bool {
        lhs.rawValue < rhs.rawValue
    }
}
