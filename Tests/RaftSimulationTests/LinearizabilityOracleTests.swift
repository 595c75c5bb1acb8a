import RaftCore
import RaftSimulation
import Testing

/// Checks the checker against a brute-force oracle on many small random histories, whose
/// values come from a tiny set so that writes collide, and whose results are sometimes
/// tampered with. The search's shortcuts (memo, retiring uncertain writes, eager reads)
/// must never change a verdict.
@Suite("Linearizability checker against brute force")
struct LinearizabilityOracleTests {
    @Test("Verdicts match exhaustive enumeration", arguments: 0..<4)
    func matchesOracle(batch: Int) {
        var linearizable = 0
        var violations = 0
        for seed in UInt64(batch * 1_000)..<UInt64(batch * 1_000 + 1_000) {
            let history = Self.smallHistory(seed: seed)
            let expected = Self.bruteForceIsLinearizable(history)
            let result = LinearizabilityChecker().check(history)
            switch result {
            case .linearizable:
                linearizable += 1
                #expect(expected, "seed \(seed): accepted a non-linearizable history \(history)")
            case .violation:
                violations += 1
                #expect(!expected, "seed \(seed): rejected a linearizable history \(history)")
            case .unknown(let reason):
                Issue.record("seed \(seed): no verdict: \(reason)")
            }
        }
        #expect(linearizable > 100 && violations > 100)
    }

    static func smallHistory(seed: UInt64) -> [HistoryOperation] {
        var random = SplitMix64(seed: seed)
        let count = Int.random(in: 1...7, using: &random)
        func value() -> [UInt8]? {
            let pick = Int.random(in: 0...2, using: &random)
            return pick == 0 ? nil : [UInt8(pick)]
        }
        var planned: [(operation: HistoryOperation, effectAt: UInt64?)] = []
        for client in 0..<count {
            let start = UInt64.random(in: 0...20, using: &random)
            let effect = start + UInt64.random(in: 0...10, using: &random)
            let end = effect + UInt64.random(in: 0...10, using: &random)
            let command: KVCommand =
                switch Int.random(in: 0..<3, using: &random) {
                case 0: .put(key: "x", value: value() ?? [1])
                case 1: .get(key: "x")
                default: .compareAndSet(key: "x", expected: value(), new: value() ?? [2])
                }
            let uncertain = Int.random(in: 0..<4, using: &random) == 0
            let applied = !uncertain || Bool.random(using: &random)
            planned.append(
                (
                    HistoryOperation(
                        client: client, command: command, invokedAt: start,
                        outcome: uncertain ? .unknown : .completed(.ok, at: end)),
                    applied ? effect : nil
                ))
        }
        var store = KVStore()
        let order = planned.indices.filter { planned[$0].effectAt != nil }.sorted {
            (planned[$0].effectAt!, $0) < (planned[$1].effectAt!, $1)
        }
        for index in order {
            let result = store.apply(planned[index].operation.command)
            if case .completed(_, let at) = planned[index].operation.outcome {
                planned[index].operation.outcome = .completed(result, at: at)
            }
        }
        var history = planned.map(\.operation)
        if Bool.random(using: &random), let index = history.indices.randomElement(using: &random),
            case .completed(_, let at) = history[index].outcome
        {
            let tampered: KVResult =
                switch Int.random(in: 0..<3, using: &random) {
                case 0: .value(value())
                case 1: .ok
                default: .casFailed(current: value())
                }
            history[index].outcome = .completed(tampered, at: at)
        }
        return history
    }

    /// Tries every subset of the uncertain operations and every order of the chosen
    /// operations that respects real time.
    static func bruteForceIsLinearizable(_ history: [HistoryOperation]) -> Bool {
        func end(_ operation: HistoryOperation) -> UInt64 {
            if case .completed(_, let at) = operation.outcome { at } else { .max }
        }
        let uncertain = history.indices.filter { history[$0].outcome == .unknown }
        for mask in 0..<(1 << uncertain.count) {
            let excluded = Set(uncertain.enumerated().filter { mask & (1 << $0.offset) != 0 }.map(\.element))
            let chosen = history.indices.filter { !excluded.contains($0) }
            var found = false
            func search(_ remaining: [Int], _ store: KVStore) {
                if found { return }
                if remaining.isEmpty {
                    found = true
                    return
                }
                for candidate in remaining {
                    let blocked = remaining.contains { end(history[$0]) < history[candidate].invokedAt }
                    if blocked { continue }
                    var next = store
                    let result = next.apply(history[candidate].command)
                    if case .completed(let seen, _) = history[candidate].outcome, seen != result { continue }
                    search(remaining.filter { $0 != candidate }, next)
                }
            }
            search(chosen, KVStore())
            if found { return true }
        }
        return false
    }
}
