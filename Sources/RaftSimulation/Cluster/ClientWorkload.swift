import Raft
import RaftCore

/// Simulated clients: each has at most one operation outstanding, sends it to the node it
/// believes leads, follows "not the leader" hints, and gives up after a time-out. Every
/// operation that may have taken effect goes into `history` for the linearizability check.
final class ClientWorkload {
    private struct Client {
        var target: NodeID?
        var operation: Int?
        var deadline: UInt64 = 0
        var sequence = 0
    }

    /// The history, by operation number; nil where an operation certainly had no effect
    /// (refused, or a read that failed).
    private(set) var history: [HistoryOperation?] = []
    private var clients: [Client]
    private let keys: [String]
    private var random: SplitMix64
    /// Per tick, the chance that an idle client issues an operation.
    private let rate: Double
    private let timeoutTicks: UInt64 = 80

    init(clients: Int, keys: Int, seed: UInt64) {
        self.clients = Array(repeating: Client(), count: clients)
        self.keys = (0..<keys).map { "k\($0)" }
        random = SplitMix64(seed: seed)
        rate = Double.random(in: 0.05...0.5, using: &random)
    }

    /// Whether no operation is outstanding.
    var isIdle: Bool { clients.allSatisfy { $0.operation == nil } }

    func step(at now: UInt64, simulation: ClusterSimulation) async {
        for index in clients.indices {
            if let operation = clients[index].operation, now >= clients[index].deadline {
                // Given up: a write may still take effect, a read has none.
                if history[operation]?.command.isReadOnly == true { history[operation] = nil }
                clients[index].operation = nil
                clients[index].target = nil
            }
            guard clients[index].operation == nil, !simulation.inLivenessPhase,
                Double.random(in: 0..<1, using: &random) < rate
            else { continue }
            await issue(client: index, at: now, simulation: simulation)
        }
    }

    private func issue(client index: Int, at now: UInt64, simulation: ClusterSimulation) async {
        let running = simulation.sortedNodes().filter(\.isUp)
        guard !running.isEmpty else { return }
        let node = running.first { $0.id == clients[index].target } ?? running[Int.random(in: 0..<running.count, using: &random)]
        guard let engine = node.engine else { return }
        clients[index].target = node.id
        clients[index].sequence += 1
        let command = makeCommand(client: index, sequence: clients[index].sequence)
        let number = history.count
        history.append(HistoryOperation(client: index, command: command, invokedAt: now, outcome: .unknown))
        clients[index].operation = number
        clients[index].deadline = now + timeoutTicks
        simulation.trace("client \(index) -> n\(node.id): \(command)")
        if case .get(let key) = command {
            await engine.read { [weak self, weak engine, weak simulation] result in
                guard let self, let simulation else { return }
                switch result {
                case .success:
                    self.finish(number, client: index, at: simulation.now, .success(.value(engine?.stateMachine.store[key])))
                case .failure(let error):
                    self.finish(number, client: index, at: simulation.now, .failure(error))
                }
            }
        } else {
            await engine.propose(command.encoded()) { [weak self, weak simulation] result in
                guard let self, let simulation else { return }
                self.finish(number, client: index, at: simulation.now, result)
            }
        }
        simulation.afterInput(node)
    }

    private func finish(_ number: Int, client index: Int, at now: UInt64, _ result: Result<KVResult, RaftNodeError>) {
        // A completion after the client gave up changes nothing: the outcome stays unknown.
        guard clients[index].operation == number, let operation = history[number] else { return }
        clients[index].operation = nil
        switch result {
        case .success(let output):
            history[number]?.outcome = .completed(output, at: now)
        case .failure(let error):
            switch error {
            case .leadershipLost, .stopped, .shutDown:
                // The entry may still commit: the outcome is unknown, unless it only read.
                if operation.command.isReadOnly { history[number] = nil }
            case .notLeader(let leader):
                history[number] = nil
                clients[index].target = leader
            default:
                history[number] = nil
                clients[index].target = nil
            }
        }
    }

    private func makeCommand(client: Int, sequence: Int) -> KVCommand {
        let key = keys[Int.random(in: 0..<keys.count, using: &random)]
        let value = Array("c\(client)-\(sequence)".utf8)
        switch Int.random(in: 0..<10, using: &random) {
        case 0..<4: return .put(key: key, value: value)
        case 4..<7: return .get(key: key)
        default:
            // Expect a value some client wrote, or none: some succeed, some fail.
            let expected: [UInt8]? = Bool.random(using: &random)
                ? nil : Array("c\(Int.random(in: 0..<clients.count, using: &random))-\(max(1, sequence - 1))".utf8)
            return .compareAndSet(key: key, expected: expected, new: value)
        }
    }

    /// Appends a read of every key, at the end of the run, from the converged state.
    func recordFinalReads(store: KVStore, at now: UInt64) {
        for key in keys {
            history.append(
                HistoryOperation(client: -1, command: .get(key: key), invokedAt: now, outcome: .completed(.value(store[key]), at: now)))
        }
    }
}
