/// One client operation in a history checked for linearizability.
public struct HistoryOperation: Sendable, Hashable {
    /// How an operation ended, as its client saw it.
    public enum Outcome: Sendable, Hashable {
        /// The client received `result` at tick `at`.
        case completed(KVResult, at: UInt64)
        /// The client gave up (a time-out, a lost leader) without learning whether the
        /// operation took effect. It may have taken effect at any time after its
        /// invocation, or never.
        case unknown
    }

    /// The client that issued the operation, for explanations.
    public var client: Int
    /// What the client asked for.
    public var command: KVCommand
    /// The tick at which the client issued it.
    public var invokedAt: UInt64
    /// How it ended.
    public var outcome: Outcome

    /// Creates a history entry.
    public init(client: Int, command: KVCommand, invokedAt: UInt64, outcome: Outcome) {
        self.client = client
        self.command = command
        self.invokedAt = invokedAt
        self.outcome = outcome
    }

    /// The key the operation acts on: histories are checked one key at a time.
    public var key: String { command.key }
}

extension HistoryOperation: CustomStringConvertible {
    public var description: String {
        switch outcome {
        case .completed(let result, let at):
            "client \(client) \(command) -> \(result) [\(invokedAt), \(at)]"
        case .unknown:
            "client \(client) \(command) -> ? [\(invokedAt), ∞)"
        }
    }
}
