import CoreMetrics
import RaftCore
import Synchronization

/// What a transport has done since it was created: the figures its swift-metrics counters
/// also report, readable directly (by tests and status pages).
public struct TransportStatistics: Sendable, Hashable {
    /// Frames written to peers.
    public var framesSent = 0
    /// Bytes of those frames.
    public var bytesSent = 0
    /// Frames received from authenticated peers.
    public var framesReceived = 0
    /// Bytes of those frames.
    public var bytesReceived = 0
    /// Envelopes dropped because a peer's queue was full or its connection was down.
    public var envelopesDropped = 0
    /// Envelopes dropped because they would not fit in a frame.
    public var envelopesTooLarge = 0
    /// Envelopes from an authenticated peer that claimed another sender or recipient.
    public var envelopesSpoofed = 0
    /// Outbound connections whose handshake completed.
    public var connectionsEstablished = 0
    /// Connection attempts after a failure.
    public var reconnects = 0
    /// Connections refused or closed during their handshake, by reason (both directions).
    public var refusals: [RefusalReason: Int] = [:]

    /// Refusals for `reason`.
    public func refusals(_ reason: RefusalReason) -> Int { refusals[reason, default: 0] }
}

/// The transport's counters: the statistics behind a lock, and swift-metrics counters.
final class TransportCounters: Sendable {
    private let statistics = Mutex(TransportStatistics())
    private let framesSent: Counter
    private let bytesSent: Counter
    private let framesReceived: Counter
    private let bytesReceived: Counter
    private let dropped: Counter
    private let spoofed: Counter
    private let reconnects: Counter
    private let refusals: [RefusalReason: Counter]

    init(node: NodeID) {
        let dimensions = [("node", "\(node)")]
        framesSent = Counter(label: "raft_transport_frames_sent", dimensions: dimensions)
        bytesSent = Counter(label: "raft_transport_bytes_sent", dimensions: dimensions)
        framesReceived = Counter(label: "raft_transport_frames_received", dimensions: dimensions)
        bytesReceived = Counter(label: "raft_transport_bytes_received", dimensions: dimensions)
        dropped = Counter(label: "raft_transport_envelopes_dropped", dimensions: dimensions)
        spoofed = Counter(label: "raft_transport_envelopes_spoofed", dimensions: dimensions)
        reconnects = Counter(label: "raft_transport_reconnects", dimensions: dimensions)
        var refusals: [RefusalReason: Counter] = [:]
        for reason in RefusalReason.allCases {
            refusals[reason] = Counter(
                label: "raft_transport_handshake_failures", dimensions: dimensions + [("reason", reason.rawValue)])
        }
        self.refusals = refusals
    }

    var snapshot: TransportStatistics { statistics.withLock { $0 } }

    func sent(frames: Int, bytes: Int) {
        statistics.withLock {
            $0.framesSent += frames
            $0.bytesSent += bytes
        }
        framesSent.increment(by: frames)
        bytesSent.increment(by: bytes)
    }

    func received(bytes: Int) {
        statistics.withLock {
            $0.framesReceived += 1
            $0.bytesReceived += bytes
        }
        framesReceived.increment()
        bytesReceived.increment(by: bytes)
    }

    func dropped(_ count: Int) {
        guard count > 0 else { return }
        statistics.withLock { $0.envelopesDropped += count }
        dropped.increment(by: count)
    }

    func tooLarge() {
        statistics.withLock { $0.envelopesTooLarge += 1 }
        dropped.increment()
    }

    func spoofedEnvelope() {
        statistics.withLock { $0.envelopesSpoofed += 1 }
        spoofed.increment()
    }

    func established() {
        statistics.withLock { $0.connectionsEstablished += 1 }
    }

    func reconnect() {
        statistics.withLock { $0.reconnects += 1 }
        reconnects.increment()
    }

    func refused(_ reason: RefusalReason) {
        statistics.withLock { $0.refusals[reason, default: 0] += 1 }
        refusals[reason]?.increment()
    }
}
