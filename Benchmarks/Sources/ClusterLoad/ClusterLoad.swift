import Foundation
import Histogram
import Logging
import Raft
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
///     swift run -c release ClusterLoad [--seconds 5] [--proposers 1,16,64,256] [--json]
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
            let point = try await measure(
                proposers: proposers, seconds: arguments.seconds, directory: base + "/p\(proposers)")
            rows.append(Row(proposers: proposers, point: point, raw: raw))
            print(rows.last!.line)
        }
        if let overload = arguments.overload {
            let point = try await measure(proposers: overload, seconds: 10, directory: base + "/overload")
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
        let point: Point
        let raw: RawSyncLoop.Result

        var fsyncBound: Double { Double(proposers) / seconds(raw.p50) }

        var line: String {
            let ratio = point.committedPerSecond / fsyncBound
            return "\(proposers) proposers: \(Int(point.committedPerSecond)) committed/s, p50 \(format(point.p50)), "
                + "p99 \(format(point.p99)); raw fdatasync p50 \(format(raw.p50)) (\(Int(raw.perSecond))/s), "
                + "fsync-bound \(Int(fsyncBound))/s, ratio \(String(format: "%.2f", ratio)); "
                + "p50 vs raw p50 \(String(format: "%.2f", seconds(point.p50) / seconds(raw.p50)))x"
        }

        var json: [String: Any] {
            [
                "proposers": proposers, "committedPerSecond": point.committedPerSecond,
                "p50Milliseconds": seconds(point.p50) * 1000, "p99Milliseconds": seconds(point.p99) * 1000,
                "rawP50Milliseconds": seconds(raw.p50) * 1000, "rawSyncsPerSecond": raw.perSecond,
                "fsyncBound": fsyncBound, "overloaded": point.overloaded,
            ]
        }
    }

    typealias Node = RaftNode<PosixFileSystem, Counter, InMemoryTransport, ContinuousClock>

    static func measure(proposers: Int, seconds duration: Int, directory: String) async throws -> Point {
        let transport = InMemoryTransport()
        var nodes: [Node] = []
        for id in 1...3 as ClosedRange<NodeID> {
            var configuration = RaftNodeConfiguration(
                id: id, directory: directory + "/n\(id)", bootstrap: .newCluster(voters: [1, 2, 3]), randomSeed: id)
            configuration.tickInterval = .milliseconds(10)
            configuration.raft.electionTicks = 20
            configuration.raft.heartbeatTicks = 2
            configuration.snapshotEntryThreshold = 200_000
            var logger = Logger(label: "cluster-load")
            logger.logLevel = .warning
            configuration.logger = logger
            configuration.wal.logger = logger
            configuration.snapshots.logger = logger
            nodes.append(
                Node(configuration: configuration, fileSystem: PosixFileSystem(), stateMachine: Counter(),
                    transport: transport, clock: ContinuousClock()))
        }
        transport.connect(nodes)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            for node in nodes { group.addTask { try await node.run() } }
            let leader = try await waitForLeader(nodes)
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

    static func waitForLeader(_ nodes: [Node]) async throws -> Node {
        for _ in 0..<1000 {
            if let leader = nodes.first(where: { $0.status?.raft.role == .leader }) { return leader }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw RaftNodeError.notLeader(leader: nil)
    }
}

/// Delivers envelopes straight into the addressed node's inbox.
final class InMemoryTransport: Transport, Sendable {
    private let nodes = Mutex<[NodeID: ClusterLoad.Node]>([:])

    func connect(_ members: [ClusterLoad.Node]) {
        nodes.withLock { nodes in for node in members { nodes[node.configuration.id] = node } }
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

    init(_ arguments: ArraySlice<String>) {
        var iterator = arguments.makeIterator()
        while let argument = iterator.next() {
            switch argument {
            case "--seconds": seconds = iterator.next().flatMap(Int.init) ?? seconds
            case "--proposers":
                proposers = iterator.next().map { $0.split(separator: ",").compactMap { Int($0) } } ?? proposers
            case "--json": json = true
            case "--overload": overload = iterator.next().flatMap(Int.init)
            default:
                FileHandle.standardError.write(Data("unknown argument \(argument)\n".utf8))
                exit(2)
            }
        }
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
