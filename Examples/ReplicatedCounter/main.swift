// A replicated counter: three Raft nodes in this process, each with its own write-ahead log
// in a temporary directory, talking over authenticated TCP on loopback (RaftNIO), exactly as
// three machines would. One hundred increments go to the leader; then every node reads the
// counter linearizably. Run it with `swift run -c release ReplicatedCounter`.
import Foundation
import Raft
import RaftNIO

let members: [NodeID] = [1, 2, 3]
let directory = FileManager.default.temporaryDirectory.appendingPathComponent("replicated-counter-\(getpid())").path
let clusterID = ClusterID(bytes: (0..<16).map { _ in UInt8.random(in: 0...255) })!
let secret = Array("a secret every member shares".utf8)

// Each transport binds a free loopback port first; then every one learns the others' addresses.
var transports: [NodeID: RaftNIOTransport] = [:]
var addresses: [NodeID: PeerAddress] = [:]
for id in members {
    let transport = RaftNIOTransport(
        configuration: RaftNIOConfiguration(
            id: id, clusterID: clusterID, clusterSecret: secret,
            listenAddress: PeerAddress(host: "127.0.0.1", port: 0), peers: [:]))
    addresses[id] = try await transport.start()
    transports[id] = transport
}
for (id, transport) in transports {
    for (peer, address) in addresses where peer != id { transport.setAddress(address, of: peer) }
}

var nodes: [NodeID: RaftNode<PosixFileSystem, Counter, RaftNIOTransport, ContinuousClock>] = [:]
for id in members {
    let configuration = RaftNodeConfiguration(
        id: id, directory: "\(directory)/n\(id)", bootstrap: .newCluster(voters: Set(members)), randomSeed: id)
    let node = RaftNode(
        configuration: configuration, fileSystem: PosixFileSystem(), stateMachine: Counter(),
        transport: transports[id]!, clock: ContinuousClock())
    transports[id]!.attach(node)
    nodes[id] = node
}

let cluster = nodes
try await withThrowingTaskGroup(of: Void.self) { group in
    for node in cluster.values { group.addTask { try await node.run() } }
    defer { for node in cluster.values { node.shutdown() } }

    var increments = 0
    let deadline = ContinuousClock.now + .seconds(30)
    while increments < 100, ContinuousClock.now < deadline {
        guard let leader = cluster.values.compactMap({ $0.status?.leader }).first, let node = cluster[leader] else {
            try await Task.sleep(for: .milliseconds(20))
            continue
        }
        do throws(RaftNodeError) {
            _ = try await node.propose(Counter.encode(1))
            increments += 1
        } catch {
            // Leadership moved: ask the new leader. (After `.leadershipLost` the increment may
            // still be applied; a real client would read before retrying it.)
            guard case .notLeader = error else { throw error }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
    for id in members {
        let value = try await cluster[id]!.read { $0.value }
        print("n\(id): counter = \(value)")
    }
    print("\(increments) increments acknowledged")
}
for transport in transports.values { await transport.stop() }
try? FileManager.default.removeItem(atPath: directory)
