import Logging
import NIOCore

/// One client connection: decodes every command of a read, executes them together once the
/// read is complete, and writes the replies in order with one flush. Reading pauses while a
/// pipeline executes, so a connection holds at most one pipeline in memory.
final class RESPConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let processor: CommandProcessor
    private let logger: Logger
    private var decoder: RESPRequestDecoder
    private var session: ClientSession
    private var pending: [[[UInt8]]] = []
    private var protocolError: RESPProtocolError?
    private var executing = false

    init(processor: CommandProcessor, limits: RESPLimits, logger: Logger) {
        self.processor = processor
        self.logger = logger
        decoder = RESPRequestDecoder(limits: limits)
        session = processor.makeSession()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard protocolError == nil else { return }
        decoder.append(unwrapInboundIn(data).readableBytesView)
        do {
            while let command = try decoder.next() { pending.append(command) }
        } catch {
            protocolError = error
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        executeIfReady(context: context)
    }

    private func executeIfReady(context: ChannelHandlerContext) {
        guard !executing, !pending.isEmpty || protocolError != nil else { return }
        let commands = pending
        // Everything decoded before a protocol error is in this batch: its reply comes last.
        let error = protocolError
        pending = []
        executing = true
        context.channel.setOption(.autoRead, value: false).whenComplete { _ in }
        let processor = self.processor
        let session = self.session
        let loop = context.eventLoop
        let bound = NIOLoopBound((self, context), eventLoop: loop)
        Task {
            var session = session
            let replies = commands.isEmpty ? [] : await processor.execute(commands, session: &session)
            let finished = session
            loop.execute {
                let (handler, context) = bound.value
                handler.finish(replies, error: error, session: finished, context: context)
            }
        }
    }

    private func finish(
        _ replies: [RESPValue], error: RESPProtocolError?, session: ClientSession, context: ChannelHandlerContext
    ) {
        self.session = session
        var bytes: [UInt8] = []
        // A HELLO switches the protocol of its own reply and of those after it.
        for reply in replies { RESPEncoder.encode(reply, version: session.version, into: &bytes) }
        if let error {
            RESPEncoder.encode(.error("ERR Protocol error: \(error)"), version: session.version, into: &bytes)
        }
        executing = false
        guard context.channel.isActive else { return }
        let close = error != nil || session.wantsClose
        let write = context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: bytes)))
        if close {
            let channel = context.channel
            write.whenComplete { _ in channel.close(promise: nil) }
            return
        }
        context.channel.setOption(.autoRead, value: true).whenComplete { _ in }
        context.read()
        // Commands (or a protocol error) that arrived while this pipeline ran.
        executeIfReady(context: context)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("client connection failed", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }
}
