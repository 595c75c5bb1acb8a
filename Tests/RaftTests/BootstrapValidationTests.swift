import Logging
import Raft
import RaftCore
import RaftSimulation
import Testing
import WAL

/// A founding mistake is refused with a typed error before anything is written (issue 10,
/// finding 6): written to disk, it would outlive its correction.
@Suite struct BootstrapValidationTests {
    static let mistakes: [(name: String, id: NodeID, bootstrap: Bootstrap)] = [
        ("founding without the node's own id", 1, .newCluster(voters: [2, 3])),
        ("founding with no voters", 1, .newCluster(voters: [])),
        ("node id 0", 0, .newCluster(voters: [0, 1])),
        ("node id 0 joining", 0, .joinExisting),
        ("a voter id 0", 1, .newCluster(voters: [0, 1])),
    ]

    @Test(arguments: 0..<mistakes.count)
    func anImpossibleBootstrapIsRefusedBeforeAnythingIsWritten(_ number: Int) async throws {
        let (name, id, bootstrap) = Self.mistakes[number]
        var configuration = RaftNodeConfiguration(id: id, directory: "/node", bootstrap: bootstrap, randomSeed: 1)
        let silent = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        configuration.logger = silent
        configuration.wal.logger = silent
        configuration.snapshots.logger = silent
        let fileSystem = SimulatedFileSystem(seed: 3)
        let node = RaftNode(
            configuration: configuration, fileSystem: fileSystem, stateMachine: KVStateMachine(),
            transport: LocalTransport(), clock: ContinuousClock())
        do {
            try await node.run()
            Issue.record("\(name): the node ran")
        } catch {
            guard case .invalidConfiguration = error as? RaftNodeError else {
                Issue.record("\(name): \(error), not invalidConfiguration")
                return
            }
        }
        #expect((try? fileSystem.contentsOfDirectory("/node")) == nil, "\(name): the node wrote to its directory")
    }
}
