import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// The RESP front end: listens for clients and hands their pipelines to a
/// ``CommandProcessor``. Run it as a `Service`, or call ``start()`` and ``stop()``.
public final class KVServer: Service, Sendable {
    private let processor: CommandProcessor
    private let host: String
    private let port: Int
    private let limits: RESPLimits
    private let group: any EventLoopGroup
    private let logger: Logger
    private let listener = Mutex<(any Channel)?>(nil)

    /// Creates a server.
    /// - Parameters:
    ///   - processor: What executes the commands.
    ///   - host: The address to listen on.
    ///   - port: The port (0: one the system chooses).
    ///   - limits: Bounds on what one request may hold.
    ///   - eventLoopGroup: Where connections run.
    ///   - logger: Where the server reports.
    public init(
        processor: CommandProcessor, host: String, port: Int, limits: RESPLimits = RESPLimits(),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger
    ) {
        self.processor = processor
        self.host = host
        self.port = port
        self.limits = limits
        self.group = eventLoopGroup
        self.logger = logger
    }

    /// Binds the listener and returns the port it is bound to.
    /// - Throws: If the address cannot be bound (in use, not local).
    @discardableResult
    public func start() async throws -> Int {
        let (processor, limits, logger) = (self.processor, self.limits, self.logger)
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 512)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        RESPConnectionHandler(processor: processor, limits: limits, logger: logger))
                }
            }
            .bind(host: host, port: port).get()
        listener.withLock { $0 = channel }
        let bound = channel.localAddress?.port ?? port
        logger.info("listening for clients", metadata: ["address": "\(host):\(bound)"])
        return bound
    }

    /// Closes the listener.
    public func stop() async {
        let channel = listener.withLock { channel in
            defer { channel = nil }
            return channel
        }
        try? await channel?.close()
    }

    /// Runs until graceful shutdown: binds, waits, closes.
    public func run() async throws {
        try await start()
        try? await gracefulShutdown()
        await stop()
    }
}
