import Logging
import NIOCore
import NIOPosix
import Raft
import RaftCore
import ServiceLifecycle
import Synchronization

/// A `Transport` over TCP between the members of a cluster, built on SwiftNIO.
///
/// Per peer it keeps one long-lived outbound connection for Raft messages and, when a snapshot
/// is being shipped, a second one for its chunks, so heartbeats and appends never queue behind
/// megabytes of snapshot. Each sits behind a queue bounded by count and bytes: ``send(_:)``
/// never blocks; what does not fit is dropped, counted, and the peer reported unreachable to
/// the node, which then probes it instead of pipelining into the void. A writer drains each
/// queue, writes, and flushes once per drain.
///
/// Every connection opens with a handshake that names the cluster and both node ids and proves,
/// in both directions, knowledge of the cluster secret (HMAC-SHA256 over both sides' nonces;
/// the secret never crosses the wire). Afterwards an envelope whose sender is not the
/// authenticated peer is dropped and counted.
///
/// ```swift
/// let transport = RaftNIOTransport(configuration: transportConfiguration)
/// let node = RaftNode(configuration: nodeConfiguration, fileSystem: PosixFileSystem(),
///                     stateMachine: store, transport: transport, clock: ContinuousClock())
/// transport.attach(node)
/// let group = ServiceGroup(services: [transport, node], logger: logger)
/// try await group.run()
/// ```
public final class RaftNIOTransport: Transport, Service, Sendable {
    private let context: TransportContext
    private let state: Mutex<State>

    private struct State {
        var lanes: [LaneKey: PeerLane] = [:]
        var peers: [NodeID: PeerAddress]
        var listener: (any Channel)?
        var boundAddress: PeerAddress?
        var inbound: [ObjectIdentifier: any Channel] = [:]
        var running = false
    }

    private struct LaneKey: Hashable {
        var peer: NodeID
        var lane: Handshake.Lane
    }

    /// Creates a transport; ``start()`` (or ``run()``) opens its listener.
    /// - Parameters:
    ///   - configuration: Who this node is, where it and its peers listen, and the limits.
    ///   - eventLoopGroup: Where connections run; by default NIO's shared group.
    public init(configuration: RaftNIOConfiguration, eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        context = TransportContext(configuration: configuration, group: eventLoopGroup)
        state = Mutex(State(peers: configuration.peers))
    }

    /// Where received envelopes go (the node) and who hears that a peer is unreachable.
    public func attach(_ sink: some EnvelopeSink) {
        context.attach(sink)
    }

    /// What the transport was created with.
    var configuration: RaftNIOConfiguration { context.configuration }

    /// What the transport has done so far.
    public var statistics: TransportStatistics { context.counters.snapshot }

    /// The address the listener is bound to, once started.
    public var localAddress: PeerAddress? { state.withLock { $0.boundAddress } }

    /// Bytes waiting to be written to `peer`, over both its connections.
    public func queuedBytes(to peer: NodeID) -> Int {
        let lanes = state.withLock { state in state.lanes.values.filter { $0.peer == peer } }
        return lanes.reduce(0) { $0 + $1.queuedBytes }
    }

    /// Sets, changes or (with nil) forgets where `peer` listens; a connection to an old
    /// address is closed.
    public func setAddress(_ address: PeerAddress?, of peer: NodeID) {
        let lanes = state.withLock { state in
            state.peers[peer] = address
            return state.lanes.values.filter { $0.peer == peer }
        }
        for lane in lanes { lane.setAddress(address) }
    }

    // MARK: Sending

    /// Queues `envelopes`, each for its recipient, in order per peer; never blocks.
    public func send(_ envelopes: [Envelope]) {
        guard let first = envelopes.first else { return }
        // One Ready usually speaks to few peers: group consecutive envelopes per lane.
        var start = 0
        var key = Self.key(first)
        for index in envelopes.indices.dropFirst() {
            let next = Self.key(envelopes[index])
            if next != key {
                lane(key)?.enqueue(envelopes[start..<index])
                (start, key) = (index, next)
            }
        }
        lane(key)?.enqueue(envelopes[start...])
    }

    private static func key(_ envelope: Envelope) -> LaneKey {
        if case .snapshotChunk = envelope { return LaneKey(peer: envelope.to, lane: .snapshots) }
        return LaneKey(peer: envelope.to, lane: .messages)
    }

    private func lane(_ key: LaneKey) -> PeerLane? {
        guard key.peer != context.id else { return nil }
        return state.withLock { state in
            if let lane = state.lanes[key] { return lane }
            let lane = PeerLane(peer: key.peer, lane: key.lane, address: state.peers[key.peer], context: context)
            if !state.running { _ = lane.stop() }
            state.lanes[key] = lane
            return lane
        }
    }

    // MARK: Life cycle

    /// Opens the listener and lets envelopes flow; after ``stop()`` it opens them again (on the
    /// port first bound, if the configuration asked for port 0).
    /// - Returns: The address the listener is bound to.
    /// - Throws: If the listener cannot be bound (an address in use).
    @discardableResult
    public func start() async throws -> PeerAddress {
        let configuration = context.configuration
        if configuration.clusterSecret == nil {
            context.logger.warning(
                "no cluster secret: any process that knows the cluster id and a member's id can join this cluster",
                metadata: ["node": "\(configuration.id)"])
        }
        let address = localAddress ?? configuration.listenAddress
        let channel = try await makeServerBootstrap().bind(host: address.host, port: address.port).get()
        let port = channel.localAddress?.port ?? address.port
        let bound = PeerAddress(host: address.host, port: port)
        let lanes = state.withLock { state in
            state.listener = channel
            state.boundAddress = bound
            state.running = true
            return Array(state.lanes.values)
        }
        for lane in lanes { lane.reopen() }
        context.logger.info("listening for peers", metadata: ["node": "\(configuration.id)", "address": "\(bound)"])
        return bound
    }

    /// Closes the listener and every connection; envelopes sent meanwhile are dropped.
    public func stop() async {
        let (listener, lanes, inbound) = state.withLock { state in
            state.running = false
            defer {
                state.listener = nil
                state.inbound = [:]
            }
            return (state.listener, Array(state.lanes.values), Array(state.inbound.values))
        }
        try? await listener?.close()
        for channel in lanes.compactMap({ $0.stop() }) + inbound {
            try? await channel.close()
        }
    }

    /// Runs the transport as a service: starts it, and stops it on graceful shutdown.
    public func run() async throws {
        try await start()
        try? await gracefulShutdown()
        await stop()
    }

    private func makeServerBootstrap() -> ServerBootstrap {
        let context = self.context
        let configuration = context.configuration
        return ServerBootstrap(group: context.group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { [weak self] channel in
                guard let self, self.admit(channel) else {
                    context.refuse(.inboundLimit, remote: channel.remoteAddress, detail: "too many inbound connections")
                    return channel.close()
                }
                return channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHandler(ByteToMessageHandler(FrameDecoder(codec: context.codec)))
                    try pipeline.addHandler(IdleStateHandler(readTimeout: configuration.idleTimeout.timeAmount))
                    try pipeline.addHandler(ListenerHandler(context: context))
                }
            }
    }

    /// Admits an inbound connection if the limit allows, tracking it until it closes.
    private func admit(_ channel: any Channel) -> Bool {
        let id = ObjectIdentifier(channel)
        let admitted = state.withLock { state in
            guard state.running, state.inbound.count < context.configuration.maxInboundConnections else { return false }
            state.inbound[id] = channel
            return true
        }
        if admitted {
            channel.closeFuture.whenComplete { [weak self] _ in
                _ = self?.state.withLock { $0.inbound.removeValue(forKey: id) }
            }
        }
        return admitted
    }
}
