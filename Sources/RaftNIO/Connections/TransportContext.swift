import Crypto
import Logging
import NIOCore
import Raft
import RaftCore
import Synchronization

/// What every connection of one transport shares: its identity, limits, counters and the
/// node it delivers to.
final class TransportContext: Sendable {
    let configuration: RaftNIOConfiguration
    let codec: EnvelopeCodec
    private let secret: [UInt8]?
    let counters: TransportCounters
    let group: any EventLoopGroup
    private let sink = Mutex<(any EnvelopeSink)?>(nil)

    init(configuration: RaftNIOConfiguration, group: any EventLoopGroup) {
        self.configuration = configuration
        self.codec = EnvelopeCodec(maxFrameSize: configuration.maxFrameSize)
        self.secret = configuration.clusterSecret
        self.counters = TransportCounters(node: configuration.id)
        self.group = group
    }

    var id: NodeID { configuration.id }
    /// The HMAC key of the cluster secret (made on use: `SymmetricKey` is not `Sendable`).
    var key: SymmetricKey { Handshake.key(secret) }
    var logger: Logger { configuration.logger }

    func attach(_ sink: any EnvelopeSink) {
        self.sink.withLock { $0 = sink }
    }

    func deliver(_ envelope: Envelope) {
        sink.withLock { $0 }?.receive(envelope)
    }

    func reportUnreachable(_ peer: NodeID) {
        sink.withLock { $0 }?.reportUnreachable(peer)
    }

    /// Counts and logs a refused connection: once per connection, as it closes.
    func refuse(_ reason: RefusalReason, remote: SocketAddress?, detail: String) {
        counters.refused(reason)
        logger.warning(
            "refused a peer connection",
            metadata: ["reason": "\(reason.rawValue)", "remote": "\(remote.map { "\($0)" } ?? "?")", "detail": "\(detail)"])
    }
}

extension Duration {
    /// The same span as NIO counts time.
    var timeAmount: TimeAmount {
        let (seconds, attoseconds) = components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
