import Raft
import RaftCore
@testable import RaftNIO
import Testing

/// No one joins a cluster by opening a socket: each way of getting the handshake or the frames
/// wrong is refused with its own counted reason, and the node keeps serving its real peers.
@Suite(.timeLimit(.minutes(1))) struct AuthenticationTests {
    /// A listener (node 2) with a real peer (node 3) sending it heartbeats.
    struct Fixture {
        let mesh: [NodeID: RaftNIOTransport]
        let sink = RecordingSink()
        var listener: RaftNIOTransport { mesh[2]! }
        var address: PeerAddress { listener.localAddress! }

        init(configure: (inout RaftNIOConfiguration) -> Void = { _ in }) async throws {
            mesh = try await startMesh([2, 3], configure: configure)
            mesh[2]!.attach(sink)
        }

        /// Whether node 3's heartbeats still get through to node 2.
        func stillServesItsPeer() async -> Bool {
            let before = sink.received(from: 3).count
            return await eventually {
                mesh[3]!.send([heartbeat(from: 3, to: 2)])
                return sink.received(from: 3).count > before
            }
        }

        /// An intruder transport with `configuration` dialling node 2 as `as`; whether node 2
        /// refused it for `reason` without delivering anything from it.
        func isRefused(
            _ reason: RefusalReason, from configuration: RaftNIOConfiguration, dialling target: NodeID = 2
        ) async throws -> Bool {
            let intruder = RaftNIOTransport(configuration: configuration)
            try await intruder.start()
            intruder.setAddress(address, of: target)
            let refused = await eventually {
                intruder.send([heartbeat(from: configuration.id, to: target)])
                return listener.statistics.refusals(reason) > 0
            }
            await intruder.stop()
            return refused && sink.received(from: configuration.id).isEmpty
        }

        func stop() async {
            for transport in mesh.values { await transport.stop() }
        }
    }

    /// For tests whose raw clients write after connecting: on two loaded cores the default
    /// 500 ms could close them first, and they would see a timeout, not the refusal under test.
    let patientHandshake = Duration.seconds(30)

    @Test func aPeerOfAnotherClusterIsRefused() async throws {
        let fixture = try await Fixture()
        #expect(try await fixture.isRefused(.wrongClusterID, from: loopbackConfiguration(id: 4, clusterID: .random())))
        #expect(await fixture.stillServesItsPeer())
        await fixture.stop()
    }

    @Test func aPeerWithTheWrongSecretIsRefused() async throws {
        let fixture = try await Fixture()
        #expect(try await fixture.isRefused(.wrongSecret, from: loopbackConfiguration(id: 4, secret: Array("guess".utf8))))
        #expect(try await fixture.isRefused(.wrongSecret, from: loopbackConfiguration(id: 5, secret: nil)))
        #expect(await fixture.stillServesItsPeer())
        await fixture.stop()
    }

    @Test func aPeerExpectingAnotherNodeIsRefused() async throws {
        let fixture = try await Fixture()
        #expect(try await fixture.isRefused(.wrongReceiver, from: loopbackConfiguration(id: 4), dialling: 7))
        #expect(await fixture.stillServesItsPeer())
        await fixture.stop()
    }

    @Test func anEnvelopeWithASpoofedSenderIsDroppedAndCounted() async throws {
        let fixture = try await Fixture()
        let peer = fixture.mesh[3]!
        #expect(await fixture.stillServesItsPeer())
        // Node 3 is authenticated; it claims to speak for node 1.
        peer.send([heartbeat(from: 1, to: 2, term: 99)])
        #expect(await eventually { fixture.listener.statistics.envelopesSpoofed == 1 })
        #expect(fixture.sink.received(from: 1).isEmpty)
        #expect(await fixture.stillServesItsPeer())
        await fixture.stop()
    }

    @Test func aFrameOverTheLimitIsRefused() async throws {
        let fixture = try await Fixture {
            $0.maxFrameSize = 64 << 10
            $0.handshakeTimeout = patientHandshake
        }
        var configuration = loopbackConfiguration(id: 4)
        configuration.maxFrameSize = 1 << 20
        let intruder = RaftNIOTransport(configuration: configuration)
        try await intruder.start()
        intruder.setAddress(fixture.address, of: 2)
        #expect(await eventually {
            intruder.send([append(from: 4, to: 2, index: 1, entries: 64, size: 2048)])
            return fixture.listener.statistics.refusals(.frameTooLarge) > 0
        })
        await intruder.stop()
        // The same before any handshake: a length prefix far over the limit.
        let before = fixture.listener.statistics.refusals(.frameTooLarge)
        let raw = try await RawClient(to: fixture.address)
        try await raw.send([0xFF, 0xFF, 0xFF, 0x7F, 1, 1])
        #expect(await raw.isClosed(within: .seconds(5)))
        #expect(fixture.listener.statistics.refusals(.frameTooLarge) == before + 1)
        #expect(fixture.sink.received(from: 4).isEmpty)
        #expect(await fixture.stillServesItsPeer())
        await fixture.stop()
    }

    @Test func aGarbageFirstFrameIsRefused() async throws {
        let fixture = try await Fixture { $0.handshakeTimeout = patientHandshake }
        let raw = try await RawClient(to: fixture.address)
        try await raw.send([40, 0, 0, 0] + (0..<40).map { UInt8(truncatingIfNeeded: $0 &* 37) })
        #expect(await raw.isClosed(within: .seconds(5)))
        #expect(fixture.listener.statistics.refusals(.malformedFrame) == 1)
        // A well-formed frame that is not a handshake is refused too.
        let envelope = try EnvelopeCodec().encode(heartbeat(from: 3, to: 2))
        let second = try await RawClient(to: fixture.address)
        try await second.send(envelope)
        #expect(await second.isClosed(within: .seconds(5)))
        #expect(fixture.listener.statistics.refusals(.unexpectedFrame) == 1)
        #expect(fixture.sink.received(from: 3).isEmpty, "the unauthenticated heartbeat was not delivered")
        #expect(await fixture.stillServesItsPeer())
        await fixture.stop()
    }

    @Test func aClientThatSendsNothingIsClosedAfterTheHandshakeTimeout() async throws {
        let fixture = try await Fixture()
        let raw = try await RawClient(to: fixture.address)
        #expect(await raw.isClosed(within: .seconds(5)))
        #expect(fixture.listener.statistics.refusals(.handshakeTimeout) == 1)
        #expect(await fixture.stillServesItsPeer())
        await fixture.stop()
    }

    @Test func inboundConnectionsBeyondTheLimitAreClosed() async throws {
        let fixture = try await Fixture {
            $0.maxInboundConnections = 3
            $0.handshakeTimeout = patientHandshake
        }
        #expect(await fixture.stillServesItsPeer())
        var clients: [RawClient] = []
        for _ in 0..<4 { clients.append(try await RawClient(to: fixture.address)) }
        #expect(await eventually { fixture.listener.statistics.refusals(.inboundLimit) >= 2 })
        for client in clients { await client.close() }
        await fixture.stop()
    }

    @Test func aNodeWithoutASecretSaysSoAtStartUp() async throws {
        let log = CapturedLog()
        var configuration = loopbackConfiguration(id: 1, secret: nil)
        configuration.logger = log.logger
        let transport = RaftNIOTransport(configuration: configuration)
        try await transport.start()
        #expect(log.messages.withLock { $0 }.contains { $0.hasPrefix("warning: no cluster secret") })
        await transport.stop()
        var withSecret = loopbackConfiguration(id: 1)
        let quiet = CapturedLog()
        withSecret.logger = quiet.logger
        let other = RaftNIOTransport(configuration: withSecret)
        try await other.start()
        #expect(!quiet.messages.withLock { $0 }.contains { $0.contains("no cluster secret") })
        await other.stop()
    }
}
