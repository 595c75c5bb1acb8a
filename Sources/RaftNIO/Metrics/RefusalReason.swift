/// Why a connection was refused or closed before (or instead of) carrying envelopes.
public enum RefusalReason: String, Sendable, Hashable, CaseIterable {
    /// The first frame was not a handshake of this protocol (wrong magic).
    case wrongMagic
    /// The peer speaks another protocol version.
    case unsupportedVersion
    /// The peer belongs to another cluster.
    case wrongClusterID
    /// The peer expected to reach another node id.
    case wrongReceiver
    /// The peer is not who this side dialled, or names an impossible id (0, or this node's own).
    case wrongSender
    /// The peer's proof of the cluster secret is wrong.
    case wrongSecret
    /// A frame failed to decode (damage, garbage, truncation).
    case malformedFrame
    /// A frame announced more bytes than the maximum frame size.
    case frameTooLarge
    /// A frame arrived that the handshake does not allow at this point.
    case unexpectedFrame
    /// The handshake did not complete in time (a client that connects and sends nothing).
    case handshakeTimeout
    /// The connection closed before the handshake completed.
    case closedDuringHandshake
    /// Too many inbound connections were open.
    case inboundLimit
    /// An authenticated connection heard nothing for longer than the idle timeout.
    case idle
}
