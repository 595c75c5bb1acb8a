import NIOCore
import NIOPosix
import Raft
import RaftCore
@testable import RaftNIO
import Testing
import WAL

/// Envelopes over loopback TCP: order, batching, the snapshot connection, and bounded queues.
@Suite(.timeLimit(.minutes(1))) struct TransportTests {
    @Test func envelopesArriveInOrderFromTheirSender() async throws {
        let mesh = try await startMesh([1, 2])
        let sink = RecordingSink()
        mesh[2]!.attach(sink)
        for batch in 0..<50 {
            mesh[1]!.send((0..<4).map { append(from: 1, to: 2, index: UInt64(batch * 4 + $0) * 64 + 1, entries: 2) })
        }
        #expect(await eventually { sink.count == 200 })
        let indexes = sink.envelopes.withLock { $0 }.compactMap { envelope -> UInt64? in
            if case .raft(let message) = envelope { return message.entries.first?.index }
            return nil
        }
        #expect(indexes == (0..<200).map { UInt64($0) * 64 + 1 })
        let sent = mesh[1]!.statistics
        #expect(sent.framesSent == 200)
        #expect(sent.connectionsEstablished == 1, "one long-lived connection")
        #expect(mesh[2]!.statistics.framesReceived == 200)
        for transport in mesh.values { await transport.stop() }
    }

    @Test func snapshotChunksTravelOnTheirOwnConnection() async throws {
        let mesh = try await startMesh([1, 2])
        let sink = RecordingSink()
        mesh[2]!.attach(sink)
        mesh[1]!.send([heartbeat(from: 1, to: 2)])
        #expect(await eventually { sink.count == 1 })
        #expect(mesh[1]!.statistics.connectionsEstablished == 1)
        let message = Message(kind: .snapshot, from: 1, to: 2, term: 1)
        let chunk = SnapshotChunkMessage(
            message: message, fileSize: 3 << 20, chunk: SnapshotChunk(offset: 0, bytes: Array(repeating: 9, count: 1 << 20)))
        mesh[1]!.send([.snapshotChunk(chunk), heartbeat(from: 1, to: 2)])
        #expect(await eventually { sink.count == 3 })
        #expect(mesh[1]!.statistics.connectionsEstablished == 2, "a second connection for the chunk")
        #expect(sink.envelopes.withLock { $0 }.contains(.snapshotChunk(chunk)))
        for transport in mesh.values { await transport.stop() }
    }

    /// A peer that accepts connections and never reads: its queue fills and drops (memory stays
    /// bounded), the node hears it is unreachable, and another peer is served as before.
    @Test func aPeerThatNeverReadsIsDroppedWithoutSlowingTheOthers() async throws {
        let stalled = try await StalledPeer.start()
        let mesh = try await startMesh([1, 3]) { configuration in
            configuration.maxQueuedBytes = 512 << 10
            configuration.writeBufferHighWatermark = 256 << 10
        }
        let sender = mesh[1]!
        sender.setAddress(stalled.address, of: 2)
        let sink = RecordingSink()
        sender.attach(sink)
        let receiver = RecordingSink()
        mesh[3]!.attach(receiver)
        for round in 0..<400 {
            sender.send([
                append(from: 1, to: 2, index: UInt64(round) * 16 + 1, entries: 16),
                append(from: 1, to: 3, index: UInt64(round) * 16 + 1, entries: 16),
            ])
            #expect(sender.queuedBytes(to: 2) <= 512 << 10)
            if round % 10 == 9 {
                #expect(await eventually { receiver.count == round + 1 }, "the reading peer got every append")
            }
        }
        #expect(sender.statistics.envelopesDropped > 0)
        #expect(sink.unreachable.withLock { $0 }.contains(2))
        #expect(!sink.unreachable.withLock { $0 }.contains(3))
        #expect(sender.queuedBytes(to: 2) <= 512 << 10)
        for transport in mesh.values { await transport.stop() }
        await stalled.stop()
    }

    @Test func aPeerThatStopsReadingAfterTheHandshakeIsBoundedToo() async throws {
        let mesh = try await startMesh([1, 2]) { configuration in
            configuration.maxQueuedBytes = 2 << 20
            configuration.writeBufferHighWatermark = 256 << 10
        }
        // Node 2 reads its first few kilobytes (the handshake), then never again.
        let stalled = try await StalledPeer.start(readingFirst: 4096, as: mesh[2]!)
        let sender = mesh[1]!
        sender.setAddress(stalled.address, of: 2)
        let sink = RecordingSink()
        sender.attach(sink)
        for round in 0..<2000 {
            sender.send([append(from: 1, to: 2, index: UInt64(round) * 64 + 1)])
            if round % 20 == 0 { try await Task.sleep(for: .milliseconds(1)) }
        }
        #expect(sender.statistics.connectionsEstablished == 1, "the handshake completed")
        #expect(await eventually { sender.statistics.envelopesDropped > 0 })
        #expect(sender.queuedBytes(to: 2) <= 2 << 20)
        #expect(sink.unreachable.withLock { $0 }.contains(2))
        for transport in mesh.values { await transport.stop() }
        await stalled.stop()
    }

    @Test func aStoppedTransportReconnectsWhenStartedAgain() async throws {
        let mesh = try await startMesh([1, 2])
        let sink = RecordingSink()
        mesh[2]!.attach(sink)
        mesh[1]!.send([heartbeat(from: 1, to: 2)])
        #expect(await eventually { sink.count == 1 })
        await mesh[2]!.stop()
        try await mesh[2]!.start()
        #expect(await eventually {
            mesh[1]!.send([heartbeat(from: 1, to: 2)])
            return sink.count >= 2
        })
        #expect(mesh[1]!.statistics.reconnects >= 1)
        for transport in mesh.values { await transport.stop() }
    }
}

/// A listener that reads at most `limit` bytes of each connection, then stops reading; with a
/// transport given, those bytes go through that transport's own handshake.
final class StalledPeer: Sendable {
    let server: any Channel
    var address: PeerAddress { PeerAddress(host: "127.0.0.1", port: server.localAddress!.port!) }

    private init(server: any Channel) {
        self.server = server
    }

    static func start(readingFirst limit: Int = 0, as transport: RaftNIOTransport? = nil) async throws -> StalledPeer {
        let context = transport.map { TransportContext(configuration: $0.configuration, group: MultiThreadedEventLoopGroup.singleton) }
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelOption(.autoRead, value: limit > 0)
            .childChannelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 1024))
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    guard let context else { return }
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHandler(StopReading(limit: limit))
                    try pipeline.addHandler(ByteToMessageHandler(FrameDecoder(codec: context.codec)))
                    try pipeline.addHandler(ListenerHandler(context: context))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return StalledPeer(server: server)
    }

    func stop() async {
        try? await server.close()
    }

    final class StopReading: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let limit: Int
        var seen = 0

        init(limit: Int) {
            self.limit = limit
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            seen += unwrapInboundIn(data).readableBytes
            if seen >= limit { context.channel.setOption(.autoRead, value: false).whenComplete { _ in } }
            context.fireChannelRead(data)
        }
    }
}
