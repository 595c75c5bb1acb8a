import Benchmark
import RaftCore

/// A 3-node cluster of cores stepped in one process with no I/O: storage is
/// `MemoryLogStorage`, and messages are routed through an in-memory queue.
/// Each iteration proposes 256-byte entries in batches and runs the cluster
/// until every entry is committed and applied on the leader.
struct InProcessCluster {
    var replicas: [RaftReplica<MemoryLogStorage>]
    var queue: [Message] = []
    var appliedOnLeader = 0

    init() {
        let configuration = Configuration(voters: [1, 2, 3])
        let options = RaftOptions(
            electionTicks: 10, heartbeatTicks: 1, preVote: false, checkQuorum: false,
            maxInflightMessages: 64, maxInflightBytes: 64 << 20, maxMessageBytes: 4 << 20
        )
        replicas = (1...3).map { id in
            RaftReplica(
                id: NodeID(id), storage: MemoryLogStorage(configuration: configuration),
                hardState: HardState(), options: options, randomSeed: 42
            )
        }
        try? replicas[0].campaign()
        runUntilQuiet()
    }

    /// Persists, routes and applies until nothing is left to do.
    mutating func runUntilQuiet() {
        var busy = true
        while busy {
            busy = false
            for position in replicas.indices where replicas[position].hasReady {
                busy = true
                let ready = replicas[position].ready()
                replicas[position].updateStorage { storage in
                    if let snapshot = ready.snapshot { storage.install(snapshot) }
                    storage.append(ready.entries)
                    if let state = ready.hardState { storage.hardState = state }
                }
                queue.append(contentsOf: ready.messages)
                queue.append(contentsOf: ready.messagesAfterPersist)
                if position == 0 { appliedOnLeader += ready.committedEntries.count }
                replicas[position].advance(ready)
            }
            if !queue.isEmpty {
                busy = true
                let batch = queue
                queue = []
                for message in batch {
                    replicas[Int(message.to) - 1].step(message)
                }
            }
        }
    }

    /// Keeps memory flat: compacts every node through what it applied.
    mutating func compact() {
        for position in replicas.indices {
            let applied = replicas[position].appliedIndex
            let configuration = replicas[position].configuration
            replicas[position].updateStorage { $0.compact(through: applied, configuration: configuration) }
        }
    }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration.maxDuration = .seconds(5)

    // One scaled iteration is one committed 256-byte entry, so the reported
    // throughput is committed entries per second (target: 1,000,000/s).
    Benchmark(
        "RaftCore: 3-node in-process cluster, 256-byte proposals in batches of 100, committed entries",
        configuration: .init(metrics: [.wallClock, .throughput, .mallocCountTotal, .peakMemoryResident], scalingFactor: .kilo)
    ) { benchmark in
        var cluster = InProcessCluster()
        let payload = [UInt8](repeating: 0xAB, count: 256)
        let batchSize = 100
        var batch: [[UInt8]] = []
        batch.reserveCapacity(batchSize)
        let appliedBefore = cluster.appliedOnLeader
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            batch.append(payload)
            if batch.count == batchSize {
                try? cluster.replicas[0].propose(batch: batch)
                cluster.runUntilQuiet()
                cluster.compact()
                batch.removeAll(keepingCapacity: true)
            }
        }
        if !batch.isEmpty {
            try? cluster.replicas[0].propose(batch: batch)
            cluster.runUntilQuiet()
        }
        benchmark.stopMeasurement()
        precondition(cluster.appliedOnLeader - appliedBefore == benchmark.scaledIterations.count, "every entry must commit")
    }
}
