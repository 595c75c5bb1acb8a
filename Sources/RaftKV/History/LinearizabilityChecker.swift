/// Checks key-value histories for linearizability, with the Wing–Gong–Lowe search.
///
/// A single-key register is P-compositional (Lowe; Horn and Kroening): a history is
/// linearizable exactly when its restriction to every key is. So the checker splits the
/// history by key and searches each part on its own, which turns one exponential search
/// into many small ones.
///
/// An operation with an ``HistoryOperation/Outcome/unknown`` outcome is given a response
/// time of infinity: it may be linearized anywhere after its invocation, or at the very
/// end, which is the same as never.
public struct LinearizabilityChecker: Sendable {
    /// The most search steps spent on one key before the checker answers
    /// ``LinearizabilityResult/unknown(_:)`` rather than run on.
    public var maximumStepsPerKey: Int

    /// Creates a checker with a search budget per key.
    public init(maximumStepsPerKey: Int = 2_000_000) {
        self.maximumStepsPerKey = maximumStepsPerKey
    }

    /// Checks `history`.
    ///
    /// Keys are checked in sorted order and the first violation found is returned; a
    /// violation outranks a key on which the search ran out of budget.
    public func check(_ history: [HistoryOperation]) -> LinearizabilityResult {
        var indexesByKey: [String: [Int]] = [:]
        for (index, operation) in history.enumerated() {
            if case .completed(_, let at) = operation.outcome, at < operation.invokedAt {
                return .unknown("operation \(index) (\(operation)) returns before it is invoked")
            }
            indexesByKey[operation.key, default: []].append(index)
        }
        var undecided: String?
        for key in indexesByKey.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            var search = KeyHistorySearch(key: key, history: history, indexes: indexesByKey[key]!)
            switch search.run(maximumSteps: maximumStepsPerKey) {
            case .linearizable:
                continue
            case .violation(let key, let operations, let explanation):
                return .violation(key: key, operations: operations, explanation: explanation)
            case .unknown(let reason):
                undecided = undecided ?? reason
            }
        }
        return undecided.map { .unknown($0) } ?? .linearizable
    }
}
