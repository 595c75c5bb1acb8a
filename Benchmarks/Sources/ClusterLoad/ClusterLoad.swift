import Foundation
import Histogram
import Logging
import Raft
import RaftNIO
import RaftSimulation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The runtime on a real disk: three `RaftNode`s through the public API, each on its own
/// `PosixFileSystem` temp directory, joined by an in-memory transport, with N concurrent
/// proposers of 256-byte commands for a few seconds per point; and, in the same run and
/// directory, a raw `pwrite`+`fdatasync` loop, the yardstick.
///
/// "fsync-bound" is N ÷ (the raw loop's p50): what N proposers would reach if each round
/// cost exactly one fsync and nothing else.
///
/// `--transport tcp` joins the nodes with `RaftNIOTransport` over loopback instead, and
/// `--transport both` measures each point both ways in the same run (the ratio is the
/// network's cost). `--storage memory` puts every node on the in-memory `SimulatedFileSystem`:
/// zero-latency storage, so the figure is the runtime's own cost.
///
///     swift run -c release ClusterLoad [--seconds 5] [--proposers 1,16,64,256] [--json]
///                                      [--transport memory|tcp|both] [--storage disk|memory]
///                                      [--overload 2000]
@main
struct ClusterLoad {
    static func main() async throws {
        let arguments = Arguments(CommandLine.arguments.dropFirst())
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("cluster-load-\(getpid())").path
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: base) }
        var rows: [Row] = []
        for proposers in arguments.proposers {
            let raw = try RawSyncLoop.measure(directory: base, duration: .milliseconds(1500))
            for transport in arguments.transports {
                let point = try await measure(
                    proposers: proposers, seconds: arguments.seconds, directory: base + "/p\(proposers)-\(transport)",
                    transport: transport, storage: arguments.storage)
                rows.append(Row(proposers: proposers, transport: transport, storage: arguments.storage, point: point, raw: raw))
                print(rows.last!.line)
            }
        }
        if let overload = arguments.overload {
            let point = try await measure(
                proposers: overload, seconds: 10, directory: base + "/overload", transport: arguments.transports[0],
                storage: arguments.storage)
            print(
                "overload \(overload) proposers: \(Int(point.committedPerSecond)) committed/s, "
                    + "\(point.overloaded) overloaded (p50 of a refusal \(format(point.refusalP50))), "
                    + "longest wait \(format(point.longestWait)), peak RSS \(peakResidentMiB()) MiB")
        }
        if arguments.json {
            let objects = rows.map(\.json)
            let data = try JSONSerialization.data(withJSONObject: objects, options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        }
    }

    struct Point {
        var committedPerSecond: Double
        var p50: Duration
        var p99: Duration
        var overloaded: Int
        var refusalP50: Duration
        var longestWait: Duration
    }

    struct Row {
        let proposers: Int
        let transport: TransportKind
        let storage: StorageKind
        let point: Point
        let raw: RawSyncLoop.Result

        var fsyncBound: Double { Double(proposers) / seconds(raw.p50) }

        var line: String {
            let ratio = point.committedPerSecond / fsyncBound
            return "\(proposers) proposers (\(transport), \(storage)): \(Int(point.committedPerSecond)) committed/s, p50 \(format(point.p50)), "
                + "p99 \(format(point.p99)); raw fdatasync p50 \(format(raw.p50)) (\(Int(raw.perSecond))/s), "
                + "fsync-bound \(Int(fsyncBound))/s, ratio \(String(format: "%.2f", ratio)); "
                + "p50 vs raw p50 \(String(format: "%.2f", seconds(point.p50) / seconds(raw.p50)))x"
        }

        var json: [String: Any] {
            [
                "proposers": proposers, "transport": "\(transport)", "storage": "\(storage)",
                "committedPerSecond": point.committedPerSecond,
                "p50Milliseconds": seconds(point.p50) * 1000, "p99Milliseconds": seconds(point.p99) * 1000,
                "rawP50Milliseconds": seconds(raw.p50) * 1000, "rawSyncsPerSecond": raw.perSecond,
                "fsyncBound": fsyncBound, "overloaded": point.overloaded,
            ]
        }
    }

    static func measure(
        proposers: Int, seconds duration: Int, directory: String, transport: TransportKind, storage: StorageKind
    ) async throws -> Point {
        switch (transport, storage) {
        case (.memory, .disk):
            return try await measure(proposers: proposers, seconds: duration, directory: directory, fileSystems: { _ in PosixFileSystem() }, transports: InMemoryTransport.mesh)
        case (.memory, .memory):
            return try await measure(proposers: proposers, seconds: duration, directory: directory, fileSystems: { SimulatedFileSystem(seed: $0) }, transports: InMemoryTransport.mesh)
        case (.tcp, .disk):
            return try await measure(proposers: proposers, seconds: duration, directory: directory, fileSystems: { _ in PosixFileSystem() }, transports: loopbackMesh)
        case (.tcp, .memory):
            return try await measure(proposers: proposers, seconds: duration, directory: directory, fileSystems: { SimulatedFileSystem(seed: $0) }, transports: loopbackMesh)
        }
    }

    static func measure<FS: FileSystem, T: Transport & Sendable>(
        proposers: Int, seconds duration: Int, directory: String, fileSystems: (NodeID) -> FS,
        transports: ([NodeID]) async throws -> Mesh<T>
    ) async throws -> Point {
        let ids: [NodeID] = [1, 2, 3]
        let mesh = try await transports(ids)
        var nodes: [RaftNode<FS, Counter, T, ContinuousClock>] = []
        for id in ids {
            var configuration = RaftNodeConfiguration(
                id: id, directory: directory + "/n\(id)", bootstrap: .newCluster(voters: Set(ids)), randomSeed: id)
            configuration.tickInterval = .milliseconds(10)
            configuration.raft.electionTicks = 20
            configuration.raft.heartbeatTicks = 2
            configuration.snapshotEntryThreshold = 200_000
            var logger = Logger(label: "cluster-load")
            logger.logLevel = .warning
            configuration.logger = logger
            configuration.wal.logger = logger
            configuration.snapshots.logger = logger
            let node = RaftNode(
                configuration: configuration, fileSystem: fileSystems(id), stateMachine: Counter(),
                transport: mesh.transports[id]!, clock: ContinuousClock())
            mesh.attach(node, id)
            nodes.append(node)
        }
        return try await withThrowingTaskGroup(of: Void.self) { group in
            for node in nodes { group.addTask { try await node.run() } }
            let leader = try await waitForLeader(nodes) { $0.status?.raft.role }
            let command = [UInt8](repeating: 0x42, count: 256)
            let clock = ContinuousClock()
            let deadline = clock.now + .seconds(duration)
            let results = try await withThrowingTaskGroup(of: ProposerResult.self) { proposersGroup in
                for _ in 0..<proposers {
                    proposersGroup.addTask {
                        var result = ProposerResult()
                        while clock.now < deadline {
                            let start = clock.now
                            do throws(RaftNodeError) {
                                _ = try await leader.propose(command)
                                result.latencies.append(clock.now - start)
                            } catch .overloaded {
                                result.refusals.append(clock.now - start)
                                try? await clock.sleep(for: .milliseconds(1))
                            } catch {
                                result.failures += 1
                            }
                        }
                        return result
                    }
                }
                var all: [ProposerResult] = []
                for try await result in proposersGroup { all.append(result) }
                return all
            }
            for node in nodes { node.shutdown() }
            try await group.waitForAll()
            await mesh.stop()
            var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
            var refusals = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
            var committed = 0
            var longest = Duration.zero
            for result in results {
                committed += result.latencies.count
                for latency in result.latencies {
                    histogram.record(UInt64(max(0, nanoseconds(latency))))
                    longest = max(longest, latency)
                }
                for refusal in result.refusals { refusals.record(UInt64(max(0, nanoseconds(refusal)))) }
            }
            return Point(
                committedPerSecond: Double(committed) / Double(duration),
                p50: .nanoseconds(Int64(histogram.valueAtPercentile(50))),
                p99: .nanoseconds(Int64(histogram.valueAtPercentile(99))),
                overloaded: results.reduce(0) { $0 + $1.refusals.count },
                refusalP50: .nanoseconds(Int64(refusals.valueAtPercentile(50))), longestWait: longest)
        }
    }

    struct ProposerResult: Sendable {
        var latencies: [Duration] = []
        var refusals: [Duration] = []
        var failures = 0
    }

    static func waitForLeader<Node: AnyObject>(_ nodes: [Node], role: (Node) -> Role?) async throws -> Node {
        for _ in 0..<1000 {
            if let leader = nodes.first(where: { role($0) == .leader }) { return leader }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw RaftNodeError.notLeader(leader: nil)
    }
}

/// How the nodes are joined.
enum TransportKind: String, CustomStringConvertible {
    case memory, tcp
    var description: String { rawValue }
}

/// Where the nodes keep their logs and snapshots.
enum StorageKind: String, CustomStringConvertible {
    case disk, memory
    var description: String { rawValue }
}

/// The transports of one cluster, and how a node is attached to its own.
struct Mesh<T: Transport & Sendable>: Sendable {
    var transports: [NodeID: T]
    var attach: @Sendable (any EnvelopeSink, NodeID) -> Void
    var stop: @Sendable () async -> Void
}

/// Three `RaftNIOTransport`s on 127.0.0.1, authenticated with a shared secret.
func loopbackMesh(_ ids: [NodeID]) async throws -> Mesh<RaftNIOTransport> {
    let clusterID = ClusterID.random()
    let secret = Array("cluster-load benchmark secret".utf8)
    var transports: [NodeID: RaftNIOTransport] = [:]
    var addresses: [NodeID: PeerAddress] = [:]
    for id in ids {
        var configuration = RaftNIOConfiguration(
            id: id, clusterID: clusterID, clusterSecret: secret, listenAddress: PeerAddress(host: "127.0.0.1", port: 0),
            peers: [:])
        configuration.logger.logLevel = .warning
        let transport = RaftNIOTransport(configuration: configuration)
        addresses[id] = try await transport.start()
        transports[id] = transport
    }
    for (id, transport) in transports {
        for (peer, address) in addresses where peer != id { transport.setAddress(address, of: peer) }
    }
    let all = transports
    return Mesh(
        transports: all, attach: { node, id in all[id]!.attach(node) },
        stop: { for transport in all.values { await transport.stop() } })
}

/// Delivers envelopes straight into the addressed node's inbox.
final class InMemoryTransport: Transport, Sendable {
    private let nodes = Mutex<[NodeID: any EnvelopeSink]>([:])

    static func mesh(_ ids: [NodeID]) -> Mesh<InMemoryTransport> {
        let transport = InMemoryTransport()
        return Mesh(
            transports: Dictionary(uniqueKeysWithValues: ids.map { ($0, transport) }),
            attach: { node, id in transport.nodes.withLock { $0[id] = node } }, stop: {})
    }

    func send(_ envelopes: [Envelope]) {
        let nodes = nodes.withLock { $0 }
        for envelope in envelopes { nodes[envelope.to]?.receive(envelope) }
    }
}

/// A state machine that counts what it applied; its snapshot is the count.
struct Counter: StateMachine {
    var count: UInt64 = 0

    mutating func apply(_ commands: [CommittedCommand]) throws -> [UInt64] {
        commands.map { _ in
            count += 1
            return count
        }
    }

    func writeSnapshot(to sink: inout some SnapshotSink) async throws {
        try await sink.write(withUnsafeBytes(of: count.littleEndian) { Array($0) })
    }

    mutating func restore(from snapshot: some AsyncSequence<[UInt8], SnapshotError>) async throws {
        var bytes: [UInt8] = []
        for try await chunk in snapshot { bytes += chunk }
        count = bytes.count == 8 ? bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) } : 0
    }
}

/// A loop of `pwrite` of one 256-byte record plus `fdatasync`, appending: the disk's own speed.
enum RawSyncLoop {
    struct Result {
        var p50: Duration
        var perSecond: Double
    }

    static func measure(directory: String, duration: Duration) throws -> Result {
        let path = directory + "/raw-sync-loop"
        let descriptor = open(path, O_RDWR | O_CREAT | O_TRUNC, 0o644)
        guard descriptor >= 0 else { throw POSIXError(.EIO) }
        defer {
            close(descriptor)
            unlink(path)
        }
        let record = [UInt8](repeating: 0xA5, count: 256)
        let clock = ContinuousClock()
        var latencies: [Duration] = []
        var offset: off_t = 0
        let start = clock.now
        while clock.now - start < duration {
            let before = clock.now
            guard record.withUnsafeBytes({ pwrite(descriptor, $0.baseAddress, 256, offset) }) == 256,
                fdatasync(descriptor) == 0
            else { throw POSIXError(.EIO) }
            latencies.append(clock.now - before)
            offset += 256
        }
        latencies.sort()
        return Result(
            p50: latencies[latencies.count / 2], perSecond: Double(latencies.count) / seconds(clock.now - start))
    }
}

struct Arguments {
    var seconds = 5
    var proposers = [1, 16, 64, 256]
    var json = false
    var overload: Int?
    var transports: [TransportKind] = [.memory]
    var storage = StorageKind.disk

    init(_ arguments: ArraySlice<String>) {
        var iterator = arguments.makeIterator()
        while let argument = iterator.next() {
            switch argument {
            case "--seconds": seconds = iterator.next().flatMap(Int.init) ?? seconds
            case "--proposers":
                proposers = iterator.next().map { $0.split(separator: ",").compactMap { Int($0) } } ?? proposers
            case "--json": json = true
            case "--overload": overload = iterator.next().flatMap(Int.init)
            case "--transport":
                switch iterator.next() {
                case "memory": transports = [.memory]
                case "tcp": transports = [.tcp]
                case "both": transports = [.memory, .tcp]
                default: Self.usage("--transport takes memory, tcp or both")
                }
            case "--storage":
                guard let kind = iterator.next().flatMap(StorageKind.init(rawValue:)) else {
                    Self.usage("--storage takes disk or memory")
                }
                storage = kind
            default: Self.usage("unknown argument \(argument)")
            }
        }
    }

    static func usage(_ message: String) -> Never {
        FileHandle.standardError.write(Data("\(message)\n".utf8))
        exit(2)
    }
}

func seconds(_ duration: Duration) -> Double {
    let (whole, attoseconds) = duration.components
    return Double(whole) + Double(attoseconds) / 1e18
}

func nanoseconds(_ duration: Duration) -> Int64 {
    let (whole, attoseconds) = duration.components
    return whole * 1_000_000_000 + attoseconds / 1_000_000_000
}

func format(_ duration: Duration) -> String {
    String(format: "%.2f ms", seconds(duration) * 1000)
}

func peakResidentMiB() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return -1 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let kilobytes = line.split(separator: " ").compactMap { Int($0) }.first ?? 0
        return kilobytes / 1024
    }
    return -1
}
