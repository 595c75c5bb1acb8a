import Synchronization

/// Polls every running member's `INFO` a few times a second, so the progress line and the
/// failover timing read the cluster's latest state without asking it themselves.
final class DemoMonitor: Sendable {
    private let cluster: LocalCluster
    private let latest = Mutex<[Int: NodeInfo]>([:])

    init(cluster: LocalCluster) {
        self.cluster = cluster
    }

    /// Polls until the task is cancelled.
    func run(every interval: Duration = .milliseconds(100)) async {
        while !Task.isCancelled {
            var seen: [Int: NodeInfo] = [:]
            for id in cluster.ids where cluster.isRunning(id) {
                if let info = await cluster.info(id) { seen[id] = info }
            }
            latest.withLock { $0 = seen }
            try? await Task.sleep(for: interval)
        }
    }

    var snapshot: [Int: NodeInfo] { latest.withLock { $0 } }

    /// The member that reports itself leader with the highest term, if any.
    var leader: (id: Int, info: NodeInfo)? {
        snapshot.filter { $0.value.isLeader }.max { $0.value.term < $1.value.term }.map { ($0.key, $0.value) }
    }
}
