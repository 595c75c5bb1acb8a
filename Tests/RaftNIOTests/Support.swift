import Foundation
import Logging
import NIOCore
import NIOPosix
import Raft
import RaftCore
@testable import RaftNIO
import Synchronization
import Testing

/// Collects what a transport delivers.
final class RecordingSink: EnvelopeSink {
    let envelopes = Mutex<[Envelope]>([])
    let unreachable = Mutex<[NodeID]>([])

    func receive(_ envelope: Envelope) {
        envelopes.withLock { $0.append(envelope) }
    }

    func reportUnreachable(_ peer: NodeID) {
        unreachable.withLock { $0.append(peer) }
    }

    var count: Int { envelopes.withLock { $0.count } }
    func received(from peer: NodeID) -> [Envelope] { envelopes.withLock { $0.filter { $0.from == peer } } }
}

/// A logger that keeps its messages, to check what a transport says.
final class CapturedLog: Sendable {
    let messages = Mutex<[String]>([])

    var logger: Logger {
        Logger(label: "test") { _ in CapturingHandler(log: self) }
    }

    struct CapturingHandler: LogHandler {
        let log: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .debug

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            log.messages.withLock { $0.append("\(event.level): \(event.message) \(event.metadata ?? [:])") }
        }
    }
}

let silentLogger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
let testClusterID = ClusterID(bytes: Array(0..<16))!
let testSecret = Array("correct horse battery staple".utf8)

/// A transport configuration on 127.0.0.1, port chosen by the system, with short timeouts.
func loopbackConfiguration(
    id: NodeID, clusterID: ClusterID = testClusterID, secret: [UInt8]? = testSecret, peers: [NodeID: PeerAddress] = [:]
) -> RaftNIOConfiguration {
    var configuration = RaftNIOConfiguration(
        id: id, clusterID: clusterID, clusterSecret: secret, listenAddress: PeerAddress(host: "127.0.0.1", port: 0),
        peers: peers)
    configuration.handshakeTimeout = .milliseconds(500)
    configuration.initialReconnectDelay = .milliseconds(10)
    configuration.maxReconnectDelay = .milliseconds(100)
    configuration.logger = silentLogger
    return configuration
}

/// Started transports for `ids`, each knowing the others' addresses.
func startMesh(
    _ ids: [NodeID], configure: (inout RaftNIOConfiguration) -> Void = { _ in }
) async throws -> [NodeID: RaftNIOTransport] {
    var transports: [NodeID: RaftNIOTransport] = [:]
    var addresses: [NodeID: PeerAddress] = [:]
    for id in ids {
        var configuration = loopbackConfiguration(id: id)
        configure(&configuration)
        let transport = RaftNIOTransport(configuration: configuration)
        addresses[id] = try await transport.start()
        transports[id] = transport
    }
    for (id, transport) in transports {
        for (peer, address) in addresses where peer != id { transport.setAddress(address, of: peer) }
    }
    return transports
}

/// Polls `condition` every 5 ms until it holds or `timeout` passes; whether it held.
func eventually(timeout: Duration = .seconds(10), _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return await condition()
}

func heartbeat(from: NodeID, to: NodeID, term: UInt64 = 1, commit: UInt64 = 0) -> Envelope {
    .raft(Message(kind: .heartbeat, from: from, to: to, term: term, commit: commit))
}

func append(from: NodeID, to: NodeID, index: UInt64, entries: Int = 64, size: Int = 256) -> Envelope {
    let batch = (0..<UInt64(entries)).map { Entry(term: 1, index: index + $0, data: Array(repeating: UInt8(truncatingIfNeeded: $0), count: size)) }
    return .raft(Message(kind: .append, from: from, to: to, term: 1, logTerm: 1, index: index - 1, entries: batch))
}

/// A raw TCP client to poke at a listener with arbitrary bytes.
final class RawClient: Sendable {
    let channel: any Channel

    init(to address: PeerAddress) async throws {
        channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: address.host, port: address.port).get()
    }

    func send(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(channel.allocator.buffer(bytes: bytes)).get()
    }

    /// Whether the other side closed the connection within `timeout`.
    func isClosed(within timeout: Duration) async -> Bool {
        await eventually(timeout: timeout) { !channel.isActive }
    }

    func close() async {
        try? await channel.close()
    }
}
