import DequeModule
import NIOCore
import NIOPosix
import Raft
import RaftCore
import Synchronization

/// One outbound connection to a peer (its message lane or its snapshot lane) and the bounded
/// queue in front of it.
///
/// `enqueue` never blocks and never waits on the network: it appends under a lock, or drops
/// when the queue is full or the connection is down, and then at most schedules work on the
/// connection's event loop. The writer there drains everything queued, writes it in large
/// buffers while the socket accepts more, and flushes once.
///
/// The connection is dialled when there is something to send; after a failure the lane backs
/// off (capped exponential, with jitter, reset by a handshake that completes), dropping what
/// is sent meanwhile, and the node is told the peer is unreachable.
final class PeerLane: Sendable {
    let peer: NodeID
    let lane: Handshake.Lane
    private let context: TransportContext
    private let state: Mutex<State>
    /// Bytes of frames encoded into one buffer before it is written.
    private static let writeChunk = 256 << 10

    fileprivate struct State {
        var address: PeerAddress?
        var queue = Deque<Envelope>()
        var queuedBytes = 0
        var phase = Phase.idle
        /// A drain is scheduled, or waits for the socket to accept more.
        var drainPending = false
        var failures = 0
        /// The node was told the peer is unreachable and nothing got through since.
        var reported = false
        var generation = 0
    }

    fileprivate enum Phase {
        case idle
        case connecting(generation: Int)
        case connected(any Channel, generation: Int)
        case backingOff
        case stopped
    }

    fileprivate enum Action {
        case none
        case connect(PeerAddress, generation: Int, isRetry: Bool)
        case drain(any Channel)
    }

    init(peer: NodeID, lane: Handshake.Lane, address: PeerAddress?, context: TransportContext) {
        self.peer = peer
        self.lane = lane
        self.context = context
        self.state = Mutex(State(address: address))
    }

    private var maxBytes: Int {
        lane == .snapshots ? context.configuration.maxQueuedSnapshotBytes : context.configuration.maxQueuedBytes
    }

    /// Bytes waiting in the queue.
    var queuedBytes: Int { state.withLock { $0.queuedBytes } }

    // MARK: Sending

    /// Queues `envelopes` for the peer, in order, dropping those that do not fit.
    func enqueue(_ envelopes: some Collection<Envelope>) {
        let (maxCount, maxBytes) = (context.configuration.maxQueuedEnvelopes, self.maxBytes)
        var dropped = 0
        var report = false
        let action: Action = state.withLock { state in
            switch state.phase {
            case .stopped, .backingOff:
                dropped = envelopes.count
            case .idle, .connecting, .connected:
                if state.address == nil {
                    dropped = envelopes.count
                    break
                }
                for envelope in envelopes {
                    let size = EnvelopeCodec.frameSize(of: envelope)
                    guard state.queue.count < maxCount, state.queuedBytes + size <= maxBytes else {
                        dropped += 1
                        continue
                    }
                    state.queue.append(envelope)
                    state.queuedBytes += size
                }
            }
            if dropped > 0, !state.reported, !state.isStopped {
                state.reported = true
                report = true
            }
            return state.nextAction()
        }
        context.counters.dropped(dropped)
        if report { context.reportUnreachable(peer) }
        perform(action)
    }

    private func perform(_ action: Action) {
        switch action {
        case .none:
            break
        case .connect(let address, let generation, let isRetry):
            if isRetry { context.counters.reconnect() }
            connect(to: address, generation: generation)
        case .drain(let channel):
            channel.eventLoop.execute { self.drain(channel) }
        }
    }

    /// Writes what is queued while the socket accepts more, then flushes once. Runs on the
    /// channel's event loop.
    func drain(_ channel: any Channel) {
        var frames = 0
        var bytes = 0
        while channel.isWritable {
            let batch: [Envelope] = state.withLock { state in
                guard case .connected(let current, _) = state.phase, current === channel else {
                    state.drainPending = false
                    return []
                }
                var batch: [Envelope] = []
                var size = 0
                while size < Self.writeChunk, let envelope = state.queue.popFirst() {
                    let frameSize = EnvelopeCodec.frameSize(of: envelope)
                    size += frameSize
                    state.queuedBytes -= frameSize
                    batch.append(envelope)
                }
                if state.queue.isEmpty { state.drainPending = false }
                if !batch.isEmpty { state.reported = false }
                return batch
            }
            guard !batch.isEmpty else { break }
            var encoded: [UInt8] = []
            for envelope in batch {
                do throws(EnvelopeCodecError) {
                    try context.codec.encode(envelope, appendingTo: &encoded)
                    frames += 1
                } catch {
                    context.counters.tooLarge()
                    context.logger.error(
                        "dropped an envelope larger than the maximum frame size",
                        metadata: ["peer": "\(peer)", "error": "\(error)"])
                }
            }
            bytes += encoded.count
            channel.write(channel.allocator.buffer(bytes: encoded), promise: nil)
        }
        if frames > 0 {
            channel.flush()
            context.counters.sent(frames: frames, bytes: bytes)
        }
    }

    // MARK: Connection life

    private func connect(to address: PeerAddress, generation: Int) {
        let (context, configuration) = (self.context, self.context.configuration)
        let bootstrap = ClientBootstrap(group: context.group)
            .connectTimeout(configuration.connectTimeout.timeAmount)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelOption(
                .writeBufferWaterMark,
                value: .init(low: configuration.writeBufferHighWatermark / 2, high: configuration.writeBufferHighWatermark))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHandler(ByteToMessageHandler(FrameDecoder(codec: context.codec)))
                    try pipeline.addHandler(IdleStateHandler(writeTimeout: configuration.keepaliveInterval.timeAmount))
                    try pipeline.addHandler(DiallerHandler(lane: self, generation: generation, context: context))
                }
            }
        bootstrap.connect(host: address.host, port: address.port).whenFailure { error in
            self.context.logger.debug(
                "could not connect to a peer", metadata: ["peer": "\(self.peer)", "address": "\(address)", "error": "\(error)"])
            self.closed(generation: generation)
        }
    }

    /// The handshake on `channel` completed: envelopes flow.
    func established(_ channel: any Channel, generation: Int) {
        let action: Action = state.withLock { state in
            guard case .connecting(let current) = state.phase, current == generation else { return .none }
            state.phase = .connected(channel, generation: generation)
            state.failures = 0
            state.reported = false
            return state.nextAction()
        }
        if case .none = action, !isCurrent(channel) {
            channel.close(promise: nil)
            return
        }
        context.counters.established()
        context.logger.debug("connected to a peer", metadata: ["peer": "\(peer)", "lane": "\(lane)"])
        perform(action)
    }

    private func isCurrent(_ channel: any Channel) -> Bool {
        state.withLock { state in
            if case .connected(let current, _) = state.phase { return current === channel }
            return false
        }
    }

    /// The connection of `generation` failed or closed: drop what waits, tell the node, and
    /// back off before the next attempt.
    func closed(generation: Int) {
        var dropped = 0
        let delay: Duration? = state.withLock { state in
            switch state.phase {
            case .connecting(let current) where current == generation, .connected(_, let current) where current == generation:
                dropped = state.queue.count
                state.queue.removeAll()
                state.queuedBytes = 0
                state.drainPending = false
                state.phase = .backingOff
                state.failures += 1
                state.reported = true
                return backoff(failures: state.failures)
            default:
                return nil
            }
        }
        guard let delay else { return }
        context.counters.dropped(dropped)
        context.reportUnreachable(peer)
        context.group.next().scheduleTask(in: delay.timeAmount) { self.backoffEnded() }
    }

    private func backoffEnded() {
        state.withLock { state in
            if case .backingOff = state.phase { state.phase = .idle }
        }
    }

    /// Capped exponential backoff with jitter: the delay is drawn from the upper half of
    /// `initial · 2^(failures-1)`, capped at the maximum.
    private func backoff(failures: Int) -> Duration {
        let configuration = context.configuration
        let cap = configuration.maxReconnectDelay
        var base = configuration.initialReconnectDelay
        for _ in 1..<max(1, min(failures, 32)) where base < cap { base *= 2 }
        base = min(base, cap)
        return base / 2 + base / 2 * Double.random(in: 0...1)
    }

    /// Points the lane at a new address; a connection to the old one is closed.
    func setAddress(_ address: PeerAddress?) {
        let channel: (any Channel)? = state.withLock { state in
            guard state.address != address else { return nil }
            state.address = address
            if case .connected(let channel, _) = state.phase { return channel }
            return nil
        }
        channel?.close(promise: nil)
    }

    /// Closes the connection and drops what waits; later envelopes are dropped until `reopen`.
    func stop() -> (any Channel)? {
        state.withLock { state in
            let channel: (any Channel)? =
                if case .connected(let channel, _) = state.phase { channel } else { nil }
            state.phase = .stopped
            state.queue.removeAll()
            state.queuedBytes = 0
            state.drainPending = false
            state.generation += 1
            return channel
        }
    }

    func reopen() {
        state.withLock { state in
            state.phase = .idle
            state.failures = 0
            state.reported = false
        }
    }
}

extension PeerLane.State {
    fileprivate var isStopped: Bool {
        if case .stopped = phase { return true }
        return false
    }

    /// Starts a connection or a drain if there is something to send and nothing under way.
    fileprivate mutating func nextAction() -> PeerLane.Action {
        guard !queue.isEmpty else { return .none }
        switch phase {
        case .idle:
            guard let address else { return .none }
            generation += 1
            phase = .connecting(generation: generation)
            return .connect(address, generation: generation, isRetry: failures > 0)
        case .connected(let channel, _) where !drainPending:
            drainPending = true
            return .drain(channel)
        default:
            return .none
        }
    }
}
