import NIOCore
import NIOPosix
import RaftKV
import Testing

/// The client against a scripted server: a listener that answers each request with replies
/// written in awkward pieces.
@Suite struct RESPClientTests {
    /// Answers every decoded command with `reply(command)`, writing the bytes one at a time.
    final class ScriptedServer: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        var decoder = RESPRequestDecoder()
        let reply: @Sendable ([[UInt8]]) -> RESPValue?

        init(reply: @escaping @Sendable ([[UInt8]]) -> RESPValue?) {
            self.reply = reply
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            decoder.append(unwrapInboundIn(data).readableBytesView)
            while let command = try? decoder.next() {
                guard let value = reply(command) else {
                    context.close(promise: nil)
                    return
                }
                var bytes: [UInt8] = []
                RESPEncoder.encode(value, version: .resp2, into: &bytes)
                for byte in bytes { context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: [byte])), promise: nil) }
            }
        }
    }

    private func serve(_ reply: @escaping @Sendable ([[UInt8]]) -> RESPValue?) async throws -> any Channel {
        try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(ScriptedServer(reply: reply)) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    @Test func pipelinedRepliesComeBackInOrderWithTheirTypes() async throws {
        let server = try await serve { command in
            switch String(decoding: command[0], as: UTF8.self) {
            case "ECHO": .bulkString(command[1])
            case "LEN": .integer(Int64(command[1].count))
            case "NIL": .null
            case "LIST": .array(command.dropFirst().map { .bulkString($0) })
            default: .error("ERR unknown command")
            }
        }
        let client = try await RESPClient.connect(host: "127.0.0.1", port: server.localAddress!.port!)
        let replies = try await client.pipeline([["ECHO", "a"], ["LEN", "abcd"], ["NIL"], ["LIST", "x", "y"], ["NOPE"]])
        #expect(replies == [.bulk("a"), .integer(4), .null, .array([.bulk("x"), .bulk("y")]), .error("ERR unknown command")])
        #expect(try await client.send([Array("ECHO".utf8), [0, 13, 10, 255]]) == .bulkString([0, 13, 10, 255]))
        await client.close()
        try await server.close()
    }

    @Test func aClosedConnectionFailsTheWaitingRequests() async throws {
        let server = try await serve { _ in nil }
        let client = try await RESPClient.connect(host: "127.0.0.1", port: server.localAddress!.port!)
        await #expect(throws: RESPClientError.connectionClosed) { try await client.send(["GET", "k"]) }
        await #expect(throws: RESPClientError.connectionClosed) { try await client.send(["GET", "k"]) }
        try await server.close()
    }

    @Test func aReplyThatNeverComesTimesOut() async throws {
        let silent = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let client = try await RESPClient.connect(
            host: "127.0.0.1", port: silent.localAddress!.port!, replyTimeout: .milliseconds(200))
        await #expect(throws: RESPClientError.timedOut) { try await client.send(["PING"]) }
        try await silent.close()
    }
}
