import NIOCore
import Raft
import RaftCore

/// The dialling side of a connection to a peer: it opens the handshake, proves the cluster
/// secret, checks the peer's proof, then hands the channel to its lane, which writes envelopes.
final class DiallerHandler: ChannelInboundHandler {
    typealias InboundIn = DecodedFrame
    typealias OutboundOut = ByteBuffer

    private let lane: PeerLane
    private let generation: Int
    private let context: TransportContext
    private let nonce = Handshake.nonce()
    private var established = false
    /// The listener's nonce, once its reply came: its proof is awaited.
    private var listenerNonce: [UInt8]?
    private var timeout: Scheduled<Void>?

    init(lane: PeerLane, generation: Int, context: TransportContext) {
        self.lane = lane
        self.generation = generation
        self.context = context
    }

    func channelActive(context channelContext: ChannelHandlerContext) {
        let hello = Handshake.Hello(
            version: Handshake.protocolVersion, clusterID: context.configuration.clusterID.bytes, sender: context.id,
            receiver: lane.peer, lane: lane.lane.rawValue, nonce: nonce)
        write(.hello, Handshake.encodeHello(hello), channelContext)
        let channel = channelContext.channel
        timeout = channel.eventLoop.scheduleTask(in: context.configuration.handshakeTimeout.timeAmount) { [context] in
            context.refuse(.handshakeTimeout, remote: channel.remoteAddress, detail: "the peer did not answer the handshake")
            channel.close(promise: nil)
        }
        channelContext.fireChannelActive()
    }

    func channelRead(context channelContext: ChannelHandlerContext, data: NIOAny) {
        // After the handshake the listener sends nothing; whatever comes is ignored.
        guard !established else { return }
        let decoded = unwrapInboundIn(data)
        if let listenerNonce {
            return receiveProof(decoded.frame, listenerNonce: listenerNonce, channelContext)
        }
        guard case .control(let kind, let payload) = decoded.frame, kind == Handshake.Kind.reply.rawValue else {
            return refuse(.unexpectedFrame, "expected the handshake reply", channelContext)
        }
        let reply: Handshake.Hello
        do {
            reply = try Handshake.decode(payload, isReply: true)
        } catch {
            return refuse(error == .wrongMagic ? .wrongMagic : .malformedFrame, "a malformed handshake reply", channelContext)
        }
        let configuration = context.configuration
        guard reply.version == Handshake.protocolVersion else {
            return refuse(.unsupportedVersion, "the peer speaks protocol version \(reply.version)", channelContext)
        }
        guard reply.clusterID == configuration.clusterID.bytes else {
            return refuse(.wrongClusterID, "the peer belongs to another cluster", channelContext)
        }
        guard reply.sender == lane.peer, reply.receiver == context.id else {
            return refuse(
                .wrongSender, "dialled node \(lane.peer), reached node \(reply.sender) expecting \(reply.receiver)",
                channelContext)
        }
        let proof = Handshake.proof(
            role: .dialler, secret: context.key, clusterID: reply.clusterID, dialler: context.id, listener: lane.peer,
            diallerNonce: nonce, listenerNonce: reply.nonce)
        write(.proof, proof, channelContext)
        listenerNonce = reply.nonce
    }

    private func receiveProof(_ frame: EnvelopeCodec.Frame, listenerNonce: [UInt8], _ channelContext: ChannelHandlerContext) {
        guard case .control(let kind, let proof) = frame, kind == Handshake.Kind.proof.rawValue else {
            return refuse(.unexpectedFrame, "expected the listener's proof", channelContext)
        }
        guard
            Handshake.verify(
                proof, role: .listener, secret: context.key, clusterID: context.configuration.clusterID.bytes,
                dialler: context.id, listener: lane.peer, diallerNonce: nonce, listenerNonce: listenerNonce)
        else {
            return refuse(.wrongSecret, "the peer's proof of the cluster secret is wrong", channelContext)
        }
        established = true
        timeout?.cancel()
        lane.established(channelContext.channel, generation: generation)
    }

    func channelWritabilityChanged(context channelContext: ChannelHandlerContext) {
        if established, channelContext.channel.isWritable { lane.drain(channelContext.channel) }
        channelContext.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context channelContext: ChannelHandlerContext, event: Any) {
        if established, let idle = event as? IdleStateHandler.IdleStateEvent, idle == .write {
            write(.keepalive, [], channelContext)
            return
        }
        channelContext.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context channelContext: ChannelHandlerContext, error: any Error) {
        if !established {
            let reason: RefusalReason =
                if case .frameTooLarge = error as? EnvelopeCodecError { .frameTooLarge } else { .malformedFrame }
            return refuse(reason, "\(error)", channelContext)
        }
        context.logger.debug("a peer connection failed", metadata: ["peer": "\(lane.peer)", "error": "\(error)"])
        channelContext.close(promise: nil)
    }

    func channelInactive(context channelContext: ChannelHandlerContext) {
        timeout?.cancel()
        lane.closed(generation: generation)
        channelContext.fireChannelInactive()
    }

    private func write(_ kind: Handshake.Kind, _ payload: [UInt8], _ channelContext: ChannelHandlerContext) {
        var bytes: [UInt8] = []
        context.codec.encodeControl(kind: kind.rawValue, payload: payload, appendingTo: &bytes)
        channelContext.writeAndFlush(wrapOutboundOut(channelContext.channel.allocator.buffer(bytes: bytes)), promise: nil)
    }

    private func refuse(_ reason: RefusalReason, _ detail: String, _ channelContext: ChannelHandlerContext) {
        timeout?.cancel()
        context.refuse(reason, remote: channelContext.remoteAddress, detail: "dialling node \(lane.peer): \(detail)")
        channelContext.close(promise: nil)
    }
}
