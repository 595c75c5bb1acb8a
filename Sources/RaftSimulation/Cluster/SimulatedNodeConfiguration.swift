import Logging
import Raft
import RaftCore

extension RaftNodeConfiguration {
    /// A configuration for a node engine in a single-threaded, deterministic run: the WAL
    /// writes and syncs on the calling thread, snapshots compress inline and never sync in
    /// the background, and nothing logs.
    public static func simulated(id: NodeID, bootstrap: Bootstrap, randomSeed: UInt64) -> RaftNodeConfiguration {
        var configuration = RaftNodeConfiguration(id: id, directory: "/node", bootstrap: bootstrap, randomSeed: randomSeed)
        let silent = Logger(label: "raft-sim", factory: { _ in SwiftLogNoOpLogHandler() })
        configuration.logger = silent
        configuration.wal.execution = .callingThread
        configuration.wal.logger = silent
        configuration.snapshots.syncInterval = 0
        configuration.snapshots.workerThreads = 0
        configuration.snapshots.logger = silent
        return configuration
    }
}
