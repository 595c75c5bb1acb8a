import Logging
import Raft
import RaftCore

/// Where a node listens for its peers.
public struct PeerAddress: Sendable, Hashable, CustomStringConvertible {
    /// A host name or IP address.
    public var host: String
    /// The TCP port; 0 when listening lets the system choose.
    public var port: Int

    /// Creates an address.
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public var description: String { "\(host):\(port)" }
}

/// Everything a ``RaftNIOTransport`` needs to know to start.
public struct RaftNIOConfiguration: Sendable {
    /// This node's id.
    public var id: NodeID
    /// The cluster this node belongs to; connections naming another one are refused.
    public var clusterID: ClusterID
    /// The secret every member shares, proved on each connection by an HMAC-SHA256
    /// challenge-response; it never crosses the wire. Without one, any process that knows the
    /// cluster id and a member's id can join: the transport says so in its log at start-up.
    public var clusterSecret: [UInt8]?
    /// Where to listen for peers.
    public var listenAddress: PeerAddress
    /// The peers' listening addresses.
    public var peers: [NodeID: PeerAddress]

    /// The largest frame sent or accepted; a peer announcing a larger one is disconnected.
    public var maxFrameSize = EnvelopeCodec.defaultMaxFrameSize
    /// Envelopes waiting for one peer's message connection; beyond it, new ones are dropped.
    public var maxQueuedEnvelopes = 8192
    /// Bytes (as `EnvelopeCodec.frameSize(of:)` counts them) waiting for one peer's message
    /// connection; beyond it, new envelopes are dropped.
    public var maxQueuedBytes = 32 << 20
    /// Bytes of snapshot chunks waiting for one peer's snapshot connection.
    public var maxQueuedSnapshotBytes = 8 << 20
    /// Bytes the kernel-side write buffer may hold before the writer waits for the peer to
    /// read: with the queue bounds, what bounds memory when a peer stops reading.
    public var writeBufferHighWatermark = 1 << 20
    /// Inbound connections served at once; more are closed as they arrive.
    public var maxInboundConnections = 128
    /// A connection that has not completed its handshake by then is closed.
    public var handshakeTimeout: Duration = .seconds(5)
    /// How long to wait for a TCP connection to a peer.
    public var connectTimeout: Duration = .seconds(3)
    /// The first wait before reconnecting to a peer after a failure…
    public var initialReconnectDelay: Duration = .milliseconds(50)
    /// …doubled after each failure in a row, up to this (with jitter), and reset by a success.
    public var maxReconnectDelay: Duration = .seconds(2)
    /// A connection with nothing to send for this long sends a keepalive frame…
    public var keepaliveInterval: Duration = .seconds(1)
    /// …and an inbound connection that hears nothing for this long is closed.
    public var idleTimeout: Duration = .seconds(10)
    /// Where the transport reports its life.
    public var logger = Logger(label: "swift-raft.transport")

    /// Creates a configuration with default limits.
    public init(
        id: NodeID, clusterID: ClusterID, clusterSecret: [UInt8]?, listenAddress: PeerAddress,
        peers: [NodeID: PeerAddress]
    ) {
        self.id = id
        self.clusterID = clusterID
        self.clusterSecret = clusterSecret
        self.listenAddress = listenAddress
        self.peers = peers
    }
}
