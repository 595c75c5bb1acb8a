import Benchmark
import Foundation
import Logging
import Raft
import RaftCore
import RaftNIO
import RaftSimulation
import Synchronization
import WAL

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration.maxDuration = .seconds(10)

    // Raw transport: one endpoint streams 64-entry appends of 256-byte entries (a 17.5 KB frame)
    // to another over loopback, at most `window` frames ahead of the receiver so that nothing
    // is dropped. One scaled iteration is one append delivered.
    Benchmark(
        "Raw transport: 64 x 256-byte-entry appends over loopback, appends delivered",
        configuration: .init(
            metrics: [.wallClock, .throughput, .custom("MB/s", polarity: .prefersLarger, useScalingFactor: false)],
            scalingFactor: .kilo, maxIterations: 10)
    ) { benchmark in
        let pair = try await TransportPair.start()
        let count = benchmark.scaledIterations.count * 10
        let message = TransportPair.append()
        let frameBytes = EnvelopeCodec.frameSize(of: message)
        let start = ContinuousClock.now
        benchmark.startMeasurement()
        try await pair.stream(message, count: count, window: 512, batch: 16)
        benchmark.stopMeasurement()
        let seconds = (ContinuousClock.now - start) / .seconds(1)
        benchmark.measurement(.custom("MB/s", polarity: .prefersLarger, useScalingFactor: false), Int(Double(count * frameBytes) / seconds / 1e6))
        await pair.stop()
    }

    // Three RaftNodes in one process, the real WAL on temporary directories (PosixFileSystem),
    // 256-byte puts from N concurrent proposers: over loopback TCP and over an in-memory
    // transport, in the same run. Reports committed puts per second and the proposal latency.
    for proposers in [1, 16, 64, 256] {
        for kind in [ClusterTransportKind.inMemory, .tcp] {
            Benchmark(
                "3 RaftNodes, real WAL, \(kind): \(proposers) proposers, 256-byte puts",
                configuration: .init(
                    metrics: [
                        .wallClock, .custom("committed/s", polarity: .prefersLarger, useScalingFactor: false),
                        .custom("p50 latency (us)", useScalingFactor: false),
                        .custom("p99 latency (us)", useScalingFactor: false),
                    ],
                    scalingFactor: .one, maxDuration: .seconds(20), maxIterations: 3)
            ) { benchmark in
                let cluster = try await BenchmarkCluster.start(kind)
                let proposals = max(600, proposers * 60)
                benchmark.startMeasurement()
                let result = try await cluster.run(proposers: proposers, proposals: proposals)
                benchmark.stopMeasurement()
                benchmark.measurement(.custom("committed/s", polarity: .prefersLarger, useScalingFactor: false), result.perSecond)
                benchmark.measurement(.custom("p50 latency (us)", useScalingFactor: false), result.p50)
                benchmark.measurement(.custom("p99 latency (us)", useScalingFactor: false), result.p99)
                await cluster.stop()
            }
        }
    }
}

let silent = Logger(label: "benchmark", factory: { _ in SwiftLogNoOpLogHandler() })
let clusterID = ClusterID(bytes: Array(0..<16))!

func configuration(_ id: NodeID) -> RaftNIOConfiguration {
    var configuration = RaftNIOConfiguration(
        id: id, clusterID: clusterID, clusterSecret: Array("benchmark".utf8),
        listenAddress: PeerAddress(host: "127.0.0.1", port: 0), peers: [:])
    configuration.logger = silent
    return configuration
}

/// Counts what arrives and wakes a sender waiting for the count to reach a mark.
final class CountingSink: EnvelopeSink {
    private let state = Mutex<(count: Int, waiter: (mark: Int, continuation: CheckedContinuation<Void, Never>)?)>((0, nil))

    func receive(_ envelope: Envelope) {
        let ready: CheckedContinuation<Void, Never>? = state.withLock { state in
            state.count += 1
            guard let waiter = state.waiter, state.count >= waiter.mark else { return nil }
            state.waiter = nil
            return waiter.continuation
        }
        ready?.resume()
    }

    func reportUnreachable(_ peer: NodeID) {}

    func wait(untilCount mark: Int) async {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state in
                if state.count >= mark { return true }
                state.waiter = (mark, continuation)
                return false
            }
            if ready { continuation.resume() }
        }
    }
}

struct TransportPair {
    let sender: RaftNIOTransport
    let receiver: RaftNIOTransport
    let sink = CountingSink()

    static func start() async throws -> TransportPair {
        let sender = RaftNIOTransport(configuration: configuration(1))
        let receiver = RaftNIOTransport(configuration: configuration(2))
        try await sender.start()
        let address = try await receiver.start()
        sender.setAddress(address, of: 2)
        let pair = TransportPair(sender: sender, receiver: receiver)
        receiver.attach(pair.sink)
        return pair
    }

    static func append() -> Envelope {
        let entries = (0..<64).map { Entry(term: 1, index: UInt64($0 + 1), data: Array(repeating: UInt8($0), count: 256)) }
        return .raft(Message(kind: .append, from: 1, to: 2, term: 1, entries: entries, commit: 1))
    }

    /// Sends `count` copies of `message` in batches, at most `window` ahead of the receiver.
    func stream(_ message: Envelope, count: Int, window: Int, batch: Int) async throws {
        let batchOfMessages = Array(repeating: message, count: batch)
        var sent = 0
        while sent < count {
            if sent >= window { await sink.wait(untilCount: sent - window + batch) }
            sender.send(batchOfMessages)
            sent += batch
        }
        await sink.wait(untilCount: sent)
    }

    func stop() async {
        await sender.stop()
        await receiver.stop()
    }
}

enum ClusterTransportKind: CustomStringConvertible {
    case inMemory
    case tcp

    var description: String {
        switch self {
        case .inMemory: "in-memory transport"
        case .tcp: "loopback TCP (RaftNIO)"
        }
    }
}

/// Delivers straight into the addressed node.
final class InMemoryTransport: Transport, Sendable {
    let sinks = Mutex<[NodeID: any EnvelopeSink]>([:])

    func send(_ envelopes: [Envelope]) {
        let sinks = self.sinks.withLock { $0 }
        for envelope in envelopes { sinks[envelope.to]?.receive(envelope) }
    }
}

/// Either transport behind one type, so the node type is the same for both runs.
struct EitherTransport: Transport, Sendable {
    let memory: InMemoryTransport?
    let tcp: RaftNIOTransport?

    func send(_ envelopes: [Envelope]) {
        if let tcp { tcp.send(envelopes) } else { memory?.send(envelopes) }
    }
}

final class BenchmarkCluster: Sendable {
    typealias Node = RaftNode<PosixFileSystem, KVStateMachine, EitherTransport, ContinuousClock>

    let directory: String
    let nodes: [Node]
    let transports: [RaftNIOTransport]
    let tasks: [Task<Void, any Error>]

    private init(directory: String, nodes: [Node], transports: [RaftNIOTransport], tasks: [Task<Void, any Error>]) {
        self.directory = directory
        self.nodes = nodes
        self.transports = transports
        self.tasks = tasks
    }

    static func start(_ kind: ClusterTransportKind) async throws -> BenchmarkCluster {
        let directory = NSTemporaryDirectory() + "swift-raft-bench-" + UUID().uuidString
        let memory = InMemoryTransport()
        var transports: [RaftNIOTransport] = []
        var addresses: [PeerAddress] = []
        if case .tcp = kind {
            for id: NodeID in 1...3 {
                let transport = RaftNIOTransport(configuration: configuration(id))
                addresses.append(try await transport.start())
                transports.append(transport)
            }
            for (index, transport) in transports.enumerated() {
                for (peer, address) in addresses.enumerated() where peer != index {
                    transport.setAddress(address, of: NodeID(peer + 1))
                }
            }
        }
        var nodes: [Node] = []
        for id: NodeID in 1...3 {
            var configuration = RaftNodeConfiguration(
                id: id, directory: directory + "/n\(id)", bootstrap: .newCluster(voters: [1, 2, 3]), randomSeed: id)
            configuration.logger = silent
            configuration.wal.logger = silent
            configuration.snapshots.logger = silent
            try FileManager.default.createDirectory(atPath: configuration.directory, withIntermediateDirectories: true)
            let transport = EitherTransport(memory: transports.isEmpty ? memory : nil, tcp: transports.isEmpty ? nil : transports[Int(id) - 1])
            let node = Node(
                configuration: configuration, fileSystem: PosixFileSystem(), stateMachine: KVStateMachine(),
                transport: transport, clock: ContinuousClock())
            if transports.isEmpty {
                memory.sinks.withLock { $0[id] = node }
            } else {
                transports[Int(id) - 1].attach(node)
            }
            nodes.append(node)
        }
        let tasks = nodes.map { node in Task { try await node.run() } }
        let cluster = BenchmarkCluster(directory: directory, nodes: nodes, transports: transports, tasks: tasks)
        for _ in 0..<1000 where cluster.leader == nil { try await Task.sleep(for: .milliseconds(10)) }
        guard cluster.leader != nil else { fatalError("no leader within ten seconds") }
        return cluster
    }

    var leader: Node? { nodes.first { $0.status?.role == .leader } }

    struct Result {
        var perSecond: Int
        var p50: Int
        var p99: Int
    }

    func run(proposers: Int, proposals: Int) async throws -> Result {
        guard let leader else { fatalError("the leader was lost") }
        let start = ContinuousClock.now
        let latencies = try await withThrowingTaskGroup(of: [Duration].self) { group in
            for proposer in 0..<proposers {
                group.addTask {
                    var latencies: [Duration] = []
                    for number in stride(from: proposer, to: proposals, by: proposers) {
                        let command = KVCommand.put(key: "k\(number)", value: Array(repeating: UInt8(truncatingIfNeeded: number), count: 256))
                        let begin = ContinuousClock.now
                        _ = try await leader.propose(command.encoded())
                        latencies.append(ContinuousClock.now - begin)
                    }
                    return latencies
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }.sorted()
        }
        let seconds = (ContinuousClock.now - start) / .seconds(1)
        let micros: (Duration) -> Int = { Int($0 / .microseconds(1)) }
        return Result(
            perSecond: Int(Double(latencies.count) / seconds), p50: micros(latencies[latencies.count / 2]),
            p99: micros(latencies[latencies.count * 99 / 100]))
    }

    func stop() async {
        for node in nodes { node.shutdown() }
        for task in tasks { _ = try? await task.value }
        for transport in transports { await transport.stop() }
        try? FileManager.default.removeItem(atPath: directory)
    }
}
