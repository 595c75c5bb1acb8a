import NIOCore
import Raft
import RaftCore

/// The accepting side of a peer's connection: it checks the peer's hello and its proof of the
/// cluster secret, gives its own proof, and then delivers the envelopes that arrive, each only if
/// it comes from the authenticated peer and is addressed to this node.
final class ListenerHandler: ChannelInboundHandler {
    typealias InboundIn = DecodedFrame
    typealias OutboundOut = ByteBuffer

    private enum Phase {
        case awaitingHello
        case awaitingProof(Handshake.Hello, listenerNonce: [UInt8])
        case authenticated(peer: NodeID)
        case refused
    }

    private let context: TransportContext
    private var phase = Phase.awaitingHello
    private var timeout: Scheduled<Void>?

    init(context: TransportContext) {
        self.context = context
    }

    func handlerAdded(context channelContext: ChannelHandlerContext) {
        let channel = channelContext.channel
        let handler = NIOLoopBound(self, eventLoop: channel.eventLoop)
        timeout = channel.eventLoop.scheduleTask(in: context.configuration.handshakeTimeout.timeAmount) {
            handler.value.refuse(.handshakeTimeout, "no handshake within the timeout", channel: channel)
        }
    }

    func channelRead(context channelContext: ChannelHandlerContext, data: NIOAny) {
        let decoded = unwrapInboundIn(data)
        switch phase {
        case .authenticated(let peer):
            switch decoded.frame {
            case .envelope(let envelope):
                context.counters.received(bytes: decoded.size)
                guard envelope.from == peer, envelope.to == context.id else {
                    context.counters.spoofedEnvelope()
                    context.logger.warning(
                        "dropped an envelope whose sender or recipient is not the connection's",
                        metadata: ["peer": "\(peer)", "from": "\(envelope.from)", "to": "\(envelope.to)"])
                    return
                }
                context.deliver(envelope)
            case .control:
                break  // keepalives
            }
        case .awaitingHello:
            receiveHello(decoded.frame, channelContext)
        case .awaitingProof(let hello, let listenerNonce):
            receiveProof(decoded.frame, hello: hello, listenerNonce: listenerNonce, channelContext)
        case .refused:
            break
        }
    }

    private func receiveHello(_ frame: EnvelopeCodec.Frame, _ channelContext: ChannelHandlerContext) {
        guard case .control(let kind, let payload) = frame, kind == Handshake.Kind.hello.rawValue else {
            return refuse(.unexpectedFrame, "the first frame is not a handshake", channel: channelContext.channel)
        }
        let hello: Handshake.Hello
        do {
            hello = try Handshake.decode(payload, isReply: false)
        } catch {
            return refuse(
                error == .wrongMagic ? .wrongMagic : .malformedFrame, "a malformed handshake",
                channel: channelContext.channel)
        }
        let configuration = context.configuration
        guard hello.version == Handshake.protocolVersion else {
            return refuse(.unsupportedVersion, "protocol version \(hello.version)", channel: channelContext.channel)
        }
        guard hello.clusterID == configuration.clusterID.bytes else {
            return refuse(
                .wrongClusterID, "node \(hello.sender) names cluster \(ClusterID(bytes: hello.clusterID).map { "\($0)" } ?? "?")",
                channel: channelContext.channel)
        }
        guard hello.receiver == context.id else {
            return refuse(
                .wrongReceiver, "node \(hello.sender) expected to reach node \(hello.receiver)",
                channel: channelContext.channel)
        }
        guard hello.sender != 0, hello.sender != context.id, Handshake.Lane(rawValue: hello.lane) != nil else {
            return refuse(.wrongSender, "a hello from node \(hello.sender)", channel: channelContext.channel)
        }
        let nonce = Handshake.nonce()
        let reply = Handshake.Hello(
            version: Handshake.protocolVersion, clusterID: hello.clusterID, sender: context.id, receiver: hello.sender,
            lane: hello.lane, nonce: nonce)
        write(.reply, Handshake.encodeReply(reply), channelContext)
        phase = .awaitingProof(hello, listenerNonce: nonce)
    }

    private func write(_ kind: Handshake.Kind, _ payload: [UInt8], _ channelContext: ChannelHandlerContext) {
        var bytes: [UInt8] = []
        context.codec.encodeControl(kind: kind.rawValue, payload: payload, appendingTo: &bytes)
        channelContext.writeAndFlush(wrapOutboundOut(channelContext.channel.allocator.buffer(bytes: bytes)), promise: nil)
    }

    private func receiveProof(
        _ frame: EnvelopeCodec.Frame, hello: Handshake.Hello, listenerNonce: [UInt8], _ channelContext: ChannelHandlerContext
    ) {
        guard case .control(let kind, let proof) = frame, kind == Handshake.Kind.proof.rawValue else {
            return refuse(.unexpectedFrame, "expected node \(hello.sender)'s proof", channel: channelContext.channel)
        }
        guard
            Handshake.verify(
                proof, role: .dialler, secret: context.key, clusterID: hello.clusterID, dialler: hello.sender,
                listener: context.id, diallerNonce: hello.nonce, listenerNonce: listenerNonce)
        else {
            return refuse(
                .wrongSecret, "node \(hello.sender)'s proof of the cluster secret is wrong", channel: channelContext.channel)
        }
        write(
            .proof,
            Handshake.proof(
                role: .listener, secret: context.key, clusterID: hello.clusterID, dialler: hello.sender,
                listener: context.id, diallerNonce: hello.nonce, listenerNonce: listenerNonce),
            channelContext)
        timeout?.cancel()
        phase = .authenticated(peer: hello.sender)
        context.logger.debug("a peer connected", metadata: ["peer": "\(hello.sender)", "lane": "\(hello.lane)"])
    }

    func userInboundEventTriggered(context channelContext: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read, case .authenticated(let peer) = phase {
            context.counters.refused(.idle)
            context.logger.info("closed an idle peer connection", metadata: ["peer": "\(peer)"])
            channelContext.close(promise: nil)
            return
        }
        channelContext.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context channelContext: ChannelHandlerContext, error: any Error) {
        let reason: RefusalReason =
            if case .frameTooLarge = error as? EnvelopeCodecError { .frameTooLarge } else { .malformedFrame }
        refuse(reason, "\(error)", channel: channelContext.channel)
    }

    func channelInactive(context channelContext: ChannelHandlerContext) {
        timeout?.cancel()
        switch phase {
        case .awaitingHello, .awaitingProof:
            refuse(.closedDuringHandshake, "the peer closed the connection", channel: channelContext.channel)
        case .authenticated, .refused:
            break
        }
        channelContext.fireChannelInactive()
    }

    /// Counts, logs and closes, once per connection.
    private func refuse(_ reason: RefusalReason, _ detail: String, channel: any Channel) {
        if case .refused = phase { return }
        let peer: String = if case .authenticated(let peer) = phase { " (authenticated node \(peer))" } else { "" }
        phase = .refused
        timeout?.cancel()
        context.refuse(reason, remote: channel.remoteAddress, detail: detail + peer)
        channel.close(promise: nil)
    }
}
