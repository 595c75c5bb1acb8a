import NIOCore

/// The client's pipeline end: decodes replies and completes the waiting requests in order.
/// Runs on the channel's event loop only.
final class RESPClientHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private var decoder: RESPReplyDecoder
    private var waiting = CircularBuffer<EventLoopPromise<RESPValue>>()
    private var failure: RESPClientError?

    init(limits: RESPLimits) {
        decoder = RESPReplyDecoder(limits: limits)
    }

    /// Queues promises for the replies to requests about to be written; fails them at once
    /// if the connection has failed. Whether the requests should be written.
    func expect(_ promises: [EventLoopPromise<RESPValue>]) -> Bool {
        if let failure {
            for promise in promises { promise.fail(failure) }
            return false
        }
        waiting.append(contentsOf: promises)
        return true
    }

    /// Fails every waiting request with `error` and closes the connection.
    func fail(_ error: RESPClientError, context: ChannelHandlerContext?) {
        if failure == nil { failure = error }
        while let promise = waiting.popFirst() { promise.fail(failure ?? error) }
        context?.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        decoder.append(buffer.readableBytesView)
        do {
            while let reply = try decoder.next() {
                guard let promise = waiting.popFirst() else {
                    // A reply nobody asked for: the stream is out of step.
                    return fail(.protocolError(.unexpectedByte(UInt8(ascii: "?"))), context: context)
                }
                promise.succeed(reply)
            }
        } catch {
            fail(.protocolError(error), context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(.connectionClosed, context: nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(.connectionClosed, context: context)
    }
}
