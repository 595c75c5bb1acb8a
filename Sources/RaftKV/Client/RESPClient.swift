import NIOCore
import NIOPosix

/// A small asynchronous Redis-protocol client: one TCP connection, requests pipelined, replies
/// returned in order as ``RESPValue``s.
///
/// ```swift
/// let client = try await RESPClient.connect(host: "127.0.0.1", port: 6379)
/// _ = try await client.send(["SET", "k", "v"])           // .simpleString("OK")
/// let replies = try await client.pipeline([["GET", "k"], ["INCR", "n"]])
/// await client.close()
/// ```
///
/// Error replies (`-ERR …`) are values (``RESPValue/error(_:)``), not thrown errors; what is
/// thrown is a ``RESPClientError``: the connection failed, a reply timed out, or the server
/// broke the protocol. After a thrown error the connection is closed: connect again.
public final class RESPClient: Sendable {
    private let channel: any Channel
    private let handler: NIOLoopBound<RESPClientHandler>
    private let replyTimeout: Duration?

    private init(channel: any Channel, handler: NIOLoopBound<RESPClientHandler>, replyTimeout: Duration?) {
        self.channel = channel
        self.handler = handler
        self.replyTimeout = replyTimeout
    }

    /// Opens a connection.
    /// - Parameters:
    ///   - host: The server's host name or IP address.
    ///   - port: Its TCP port.
    ///   - connectTimeout: How long to wait for the connection.
    ///   - replyTimeout: How long a request may wait for its reply before the connection is
    ///     closed and the request fails with ``RESPClientError/timedOut``; nil waits forever.
    ///   - limits: Bounds on the replies accepted.
    ///   - eventLoopGroup: Where the connection runs; by default NIO's shared group.
    /// - Throws: The connection error (refused, unreachable, timed out).
    public static func connect(
        host: String, port: Int, connectTimeout: Duration = .seconds(5), replyTimeout: Duration? = nil,
        limits: RESPLimits = RESPLimits(maxBulkLength: 512 << 20, maxArrayLength: 16 << 20),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> RESPClient {
        let channel = try await ClientBootstrap(group: eventLoopGroup)
            .connectTimeout(.nanoseconds(nanoseconds(connectTimeout)))
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(RESPClientHandler(limits: limits))
                }
            }
            .connect(host: host, port: port).get()
        let handler = try await channel.eventLoop.submit {
            NIOLoopBound(try channel.pipeline.syncOperations.handler(type: RESPClientHandler.self), eventLoop: channel.eventLoop)
        }.get()
        return RESPClient(channel: channel, handler: handler, replyTimeout: replyTimeout)
    }

    /// Sends one command and returns its reply.
    /// - Throws: ``RESPClientError``.
    public func send(_ command: [String]) async throws(RESPClientError) -> RESPValue {
        try await pipeline([command.map { Array($0.utf8) }])[0]
    }

    /// Sends one command of raw arguments and returns its reply.
    /// - Throws: ``RESPClientError``.
    public func send(_ command: [[UInt8]]) async throws(RESPClientError) -> RESPValue {
        try await pipeline([command])[0]
    }

    /// Sends several commands in one write and returns their replies, in order.
    /// - Throws: ``RESPClientError``.
    public func pipeline(_ commands: [[String]]) async throws(RESPClientError) -> [RESPValue] {
        try await pipeline(commands.map { $0.map { Array($0.utf8) } })
    }

    /// Sends several commands of raw arguments in one write and returns their replies, in
    /// order.
    /// - Throws: ``RESPClientError``.
    public func pipeline(_ commands: [[[UInt8]]]) async throws(RESPClientError) -> [RESPValue] {
        guard !commands.isEmpty else { return [] }
        var encoded: [UInt8] = []
        for command in commands { RESPEncoder.encodeRequest(command, into: &encoded) }
        let bytes = encoded
        let eventLoop = channel.eventLoop
        let promises = commands.map { _ in eventLoop.makePromise(of: RESPValue.self) }
        let (channel, handler, timeout) = (self.channel, self.handler, self.replyTimeout)
        eventLoop.execute {
            guard handler.value.expect(promises) else { return }
            channel.writeAndFlush(channel.allocator.buffer(bytes: bytes), promise: nil)
            if let timeout, let last = promises.last {
                let task = eventLoop.scheduleTask(in: .nanoseconds(Self.nanoseconds(timeout))) {
                    handler.value.fail(.timedOut, context: nil)
                    channel.close(promise: nil)
                }
                last.futureResult.whenComplete { _ in task.cancel() }
            }
        }
        var replies: [RESPValue] = []
        replies.reserveCapacity(promises.count)
        for promise in promises {
            do {
                replies.append(try await promise.futureResult.get())
            } catch let error as RESPClientError {
                throw error
            } catch {
                throw .connectionClosed
            }
        }
        return replies
    }

    /// Closes the connection; requests still waiting fail with
    /// ``RESPClientError/connectionClosed``.
    public func close() async {
        try? await channel.close()
    }

    private static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
