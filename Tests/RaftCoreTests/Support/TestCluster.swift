@testable import RaftCore

typealias Replica = RaftReplica<MemoryLogStorage>

/// A tiny in-process message router around several replicas, each persisting
/// into its own `MemoryLogStorage`. Messages are queued and delivered in
/// order by `deliverAll`, or picked out of order by the randomized test.
struct TestCluster {
    var options: RaftOptions
    var replicas: [NodeID: Replica] = [:]
    /// Messages sent and not yet delivered, in send order.
    var network: [Message] = []
    /// Links that drop every message: (from, to).
    var cutLinks: Set<Link> = []
    /// Every entry each node applied, in order (a snapshot install replaces
    /// the list with the snapshot's prefix).
    var applied: [NodeID: [Entry]] = [:]
    var readStates: [NodeID: [ReadState]] = [:]
    /// Every `Ready` each node produced, for contract checks.
    var readyLog: [NodeID: [Ready]] = [:]
    /// The applied prefix captured when a node compacted, by snapshot index:
    /// what a snapshot's bytes would hold.
    var snapshotContents: [UInt64: [Entry]] = [:]
    /// Snapshot messages are delivered (the runtime streamed the bytes) and
    /// reported as succeeded.
    var seedCounter: UInt64
    /// Breaches of the persistence contract seen in any `Ready`.
    var contractViolations: [String] = []
    /// Bumped whenever a node's applied list is replaced (snapshot, restart).
    var appliedGeneration: [NodeID: Int] = [:]

    struct Link: Hashable {
        var from: NodeID
        var to: NodeID
    }

    init(voters: [NodeID], learners: [NodeID] = [], options: RaftOptions = RaftOptions(), seed: UInt64 = 1) {
        self.options = options
        seedCounter = seed
        let configuration = Configuration(voters: Set(voters), learners: Set(learners))
        for id in voters + learners {
            replicas[id] = Replica(
                id: id, storage: MemoryLogStorage(configuration: configuration),
                hardState: HardState(), options: options, randomSeed: seed &+ id
            )
            applied[id] = []
            readStates[id] = []
        }
    }

    /// Adds a brand-new node that knows `configuration` (the runtime starts a
    /// joining node with the configuration it is joining).
    mutating func addNode(_ id: NodeID, configuration: Configuration) {
        replicas[id] = Replica(
            id: id, storage: MemoryLogStorage(configuration: configuration),
            hardState: HardState(), options: options, randomSeed: seedCounter &+ id
        )
        applied[id] = []
        readStates[id] = []
    }

    subscript(id: NodeID) -> Replica {
        get { replicas[id]! }
        set { replicas[id] = newValue }
    }

    var ids: [NodeID] { replicas.keys.sorted() }

    var leaders: [NodeID] { ids.filter { replicas[$0]!.role == .leader } }

    /// With asynchronous storage, `process` only collects each `Ready` and
    /// sends its immediate messages; the write completes later, in
    /// `completeWrite`, in order, as a runtime with a background WAL would.
    var asynchronousStorage = false
    /// Readys handed out and not yet durable, oldest first, per node.
    var pendingWrites: [NodeID: [Ready]] = [:]

    /// Runs the ready/persist/apply/advance loop of one node until it is idle.
    mutating func process(_ id: NodeID) {
        var rounds = 0
        while replicas[id]!.hasReady && rounds < 100 {
            rounds += 1
            let ready = replicas[id]!.ready()
            readyLog[id, default: []].append(ready)
            if asynchronousStorage {
                network.append(contentsOf: ready.messages)
                pendingWrites[id, default: []].append(ready)
            } else {
                persist(ready, on: id, sendingImmediateMessages: true)
            }
        }
    }

    /// Completes the oldest pending write of `id`, then lets it act.
    mutating func completeWrite(_ id: NodeID) {
        guard var pending = pendingWrites[id], !pending.isEmpty else { return }
        let ready = pending.removeFirst()
        pendingWrites[id] = pending
        persist(ready, on: id, sendingImmediateMessages: false)
        process(id)
    }

    /// Makes `ready` durable on `id`, sends what may now go, applies and
    /// advances.
    private mutating func persist(_ ready: Ready, on id: NodeID, sendingImmediateMessages: Bool) {
        var replica = replicas[id]!
        replica.updateStorage { storage in
            if let snapshot = ready.snapshot { storage.install(snapshot) }
            storage.append(ready.entries)
            if let state = ready.hardState { storage.hardState = state }
        }
        checkContract(ready, persistedBy: replica)
        if sendingImmediateMessages { network.append(contentsOf: ready.messages) }
        network.append(contentsOf: ready.messagesAfterPersist)
        if let snapshot = ready.snapshot {
            applied[id] = snapshotContents[snapshot.index] ?? []
            appliedGeneration[id, default: 0] += 1
        }
        applied[id, default: []].append(contentsOf: ready.committedEntries)
        readStates[id, default: []].append(contentsOf: ready.readStates)
        replica.advance(ready)
        replicas[id] = replica
    }

    /// Checks clause 1 of the persistence contract on a `Ready` whose state
    /// `replica` just persisted.
    mutating func checkContract(_ ready: Ready, persistedBy replica: Replica) {
        let storage = replica.storage
        if let early = ready.messages.first(where: \.requiresPersistence) {
            contractViolations.append("node \(replica.id) may send \(early.kind) before persisting")
        }
        if let newest = ready.entries.map(\.term).max(), newest > storage.hardState.term {
            contractViolations.append("node \(replica.id) persists entries of term \(newest) with hard state term \(storage.hardState.term)")
        }
        for message in ready.messagesAfterPersist where !message.reject {
            if message.kind == .voteResponse, storage.hardState.vote != message.to || storage.hardState.term != message.term {
                contractViolations.append("node \(replica.id) grants a vote to \(message.to) not recorded durably")
            }
            if message.kind == .appendResponse, message.index > storage.lastIndex, message.index > storage.snapshot.index {
                contractViolations.append("node \(replica.id) acknowledges index \(message.index) beyond its durable log")
            }
        }
    }

    mutating func processAll() {
        for id in ids { process(id) }
    }

    /// Delivers one message (if its link is up), then lets the recipient act.
    mutating func deliver(_ message: Message) {
        guard replicas[message.to] != nil, !cutLinks.contains(Link(from: message.from, to: message.to)) else {
            lose(message)
            return
        }
        replicas[message.to]!.step(message)
        process(message.to)
        if message.kind == .snapshot {
            // The runtime streamed the snapshot; tell the leader it arrived.
            replicas[message.from]?.reportSnapshot(to: message.to, succeeded: true)
            process(message.from)
        }
    }

    /// Drops a message; a snapshot that never arrives is reported failed, as
    /// the runtime's snapshot transfer would.
    mutating func lose(_ message: Message) {
        guard message.kind == .snapshot, replicas[message.from] != nil else { return }
        replicas[message.from]!.reportSnapshot(to: message.to, succeeded: false)
        process(message.from)
    }

    /// Delivers queued messages in order until the network is quiet.
    mutating func deliverAll(limit: Int = 100_000) {
        processAll()
        var delivered = 0
        while !network.isEmpty && delivered < limit {
            let message = network.removeFirst()
            deliver(message)
            delivered += 1
        }
    }

    /// Takes the queued messages without delivering them.
    mutating func takeMessages() -> [Message] {
        processAll()
        defer { network = [] }
        return network
    }

    mutating func tick(_ id: NodeID, times: Int = 1) {
        for _ in 0..<times {
            replicas[id]!.tick()
            process(id)
        }
    }

    /// Ticks every node once and delivers the resulting traffic.
    mutating func tickAll(times: Int = 1) {
        for _ in 0..<times {
            for id in ids { tick(id) }
            deliverAll()
        }
    }

    /// Makes `id` campaign and delivers the election's traffic.
    mutating func elect(_ id: NodeID) {
        try? replicas[id]!.campaign()
        deliverAll()
    }

    mutating func propose(_ id: NodeID, _ text: String) throws(RaftError) {
        try replicas[id]!.propose(Array(text.utf8))
        deliverAll()
    }

    /// Cuts `id` off from every other node, both ways.
    mutating func isolate(_ id: NodeID) {
        for other in ids where other != id {
            cutLinks.insert(Link(from: id, to: other))
            cutLinks.insert(Link(from: other, to: id))
        }
    }

    /// Splits the cluster into groups that cannot talk to each other.
    mutating func partition(_ groups: [[NodeID]]) {
        for group in groups {
            for id in group {
                for other in ids where !group.contains(other) {
                    cutLinks.insert(Link(from: id, to: other))
                }
            }
        }
    }

    mutating func heal() {
        cutLinks = []
    }

    /// Crashes `id` and restarts it from its persisted storage: everything in
    /// memory is lost, as are its undelivered messages.
    mutating func restart(_ id: NodeID, seed: UInt64? = nil) {
        let storage = replicas[id]!.storage
        seedCounter &+= 7919
        replicas[id] = Replica(
            id: id, storage: storage, hardState: storage.hardState,
            applied: storage.snapshot.index, options: options, randomSeed: seed ?? seedCounter
        )
        applied[id] = snapshotContents[storage.snapshot.index] ?? []
        appliedGeneration[id, default: 0] += 1
        pendingWrites[id] = []
        let lost = network.filter { $0.to == id || $0.from == id }
        network.removeAll { $0.to == id || $0.from == id }
        for message in lost where message.from != id { lose(message) }
    }

    /// Compacts `id`'s log through its applied index, recording what the
    /// snapshot would contain.
    mutating func compact(_ id: NodeID) {
        let replica = replicas[id]!
        let index = replica.appliedIndex
        guard index > replica.storage.snapshot.index else { return }
        snapshotContents[index] = Array(applied[id]!.prefix { $0.index <= index })
        let configuration = replica.configuration
        replicas[id]!.updateStorage { $0.compact(through: index, configuration: configuration) }
    }

    /// The application data `id` applied, without no-ops and configuration
    /// entries.
    func appliedData(_ id: NodeID) -> [String] {
        applied[id]!.filter { $0.kind == .normal && !$0.data.isEmpty }.map { String(decoding: $0.data, as: UTF8.self) }
    }

    /// The whole log of `id` (durable and unstable), from its first index.
    func logEntries(_ id: NodeID) -> [Entry] {
        let log = replicas[id]!.log
        return log.entries(from: log.firstIndex, to: log.lastIndex + 1, maxBytes: .max) ?? []
    }
}
