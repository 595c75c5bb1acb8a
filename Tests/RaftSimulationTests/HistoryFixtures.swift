import RaftCore
import RaftSimulation

/// Shorthand for writing histories by hand: values are single bytes, and a `nil` end
/// tick means the outcome is unknown.
enum History {
    static func put(_ client: Int, _ key: String, _ value: UInt8, _ start: UInt64, _ end: UInt64?) -> HistoryOperation {
        operation(client, .put(key: key, value: [value]), .ok, start, end)
    }

    static func get(_ client: Int, _ key: String, _ value: UInt8?, _ start: UInt64, _ end: UInt64?) -> HistoryOperation
    {
        operation(client, .get(key: key), .value(value.map { [$0] }), start, end)
    }

    static func cas(
        _ client: Int, _ key: String, _ expected: UInt8?, _ new: UInt8, _ result: KVResult,
        _ start: UInt64, _ end: UInt64?
    ) -> HistoryOperation {
        operation(client, .compareAndSet(key: key, expected: expected.map { [$0] }, new: [new]), result, start, end)
    }

    static func operation(
        _ client: Int, _ command: KVCommand, _ result: KVResult, _ start: UInt64, _ end: UInt64?
    ) -> HistoryOperation {
        HistoryOperation(
            client: client, command: command, invokedAt: start,
            outcome: end.map { .completed(result, at: $0) } ?? .unknown)
    }

    /// A linearizable history of `count` operations by `clients` concurrent clients over
    /// `keys` keys, made by applying each operation to a real store at a random instant
    /// inside its interval. Puts write unique values; `timeOutsPerHundred` operations in a
    /// hundred time out, and half of those never take effect.
    static func random(
        seed: UInt64, count: Int, clients: Int, keys: Int, timeOutsPerHundred: Int = 5
    ) -> [HistoryOperation] {
        var random = SplitMix64(seed: seed)
        var clientClock = Array(repeating: UInt64(0), count: clients)
        var planned: [(operation: HistoryOperation, effectAt: UInt64?, client: Int)] = []
        var nextValue: UInt32 = 1
        for _ in 0..<count {
            let client = Int.random(in: 0..<clients, using: &random)
            let key = "k\(Int.random(in: 0..<keys, using: &random))"
            let start = clientClock[client] + UInt64.random(in: 0...5, using: &random)
            let effect = start + UInt64.random(in: 0...20, using: &random)
            let end = effect + UInt64.random(in: 0...20, using: &random)
            clientClock[client] = end + 1
            let value = withUnsafeBytes(of: nextValue.littleEndian, Array.init)
            nextValue += 1
            let command: KVCommand =
                switch Int.random(in: 0..<3, using: &random) {
                case 0: .put(key: key, value: value)
                case 1: .get(key: key)
                default:
                    .compareAndSet(
                        key: key,
                        expected: Bool.random(using: &random)
                            ? nil : withUnsafeBytes(of: (nextValue / 2).littleEndian, Array.init),
                        new: value)
                }
            let timesOut = Int.random(in: 0..<100, using: &random) < timeOutsPerHundred
            let takesEffect = !timesOut || Bool.random(using: &random)
            let operation = HistoryOperation(
                client: client, command: command, invokedAt: start,
                outcome: timesOut ? .unknown : .completed(.ok, at: end))
            planned.append((operation, takesEffect ? effect : nil, client))
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
        return planned.map(\.operation)
    }
}
