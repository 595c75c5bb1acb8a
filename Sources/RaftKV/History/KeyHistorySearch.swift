import struct RaftCore.SplitMix64

/// The Wing–Gong–Lowe search for a linearization of one key's history.
///
/// The history becomes a list of call and return events in time order (a call before a
/// return at the same tick, so that operations touching at a tick count as concurrent).
/// The search repeatedly linearizes a call that comes before every remaining return and
/// whose result fits the current value, removes its two events from the list, and
/// backtracks through an undo stack when it reaches a return it cannot get past. Lowe's
/// memo of (linearized set, value) pairs already explored keeps it from searching the same
/// configuration twice.
///
/// Operations whose outcome is unknown get a response time of infinity, which makes the
/// search exponential in how many of them are pending at once. Rules that rest on one
/// fact keep that in check: writing a value that no operation still to come observes
/// changes nothing any client can see.
/// - An uncertain operation is *retired* (counted as linearized, at the end, with no
///   effect) once no operation still to come observes the value it would write. Until
///   then it may take effect anywhere, as usual.
/// - The memo does not tell apart values that nothing still to come observes: a search
///   from one of them fails or succeeds as from any other.
/// - Once every operation with a known response is linearized, the rest are uncertain and
///   can all go at the end: the history is linearizable.
/// - A read (or a failed compare-and-set) that fits the current value is linearized at
///   once, and never postponed on backtracking (see ``RegisterTransition/isObservation``).
struct KeyHistorySearch {
    // A configuration (linearized set, value) is memoized by a 128-bit Zobrist hash: the
    // exclusive or of a random key per linearized operation, updated in constant time as
    // the search moves, mixed with the value. Two different configurations share a hash
    // with probability 2^-128, and storing 16 bytes rather than the set keeps a long
    // search's memory and time small.
    private struct Fingerprint: Hashable {
        var high: UInt64
        var low: UInt64

        static func ^ (lhs: Fingerprint, rhs: Fingerprint) -> Fingerprint {
            Fingerprint(high: lhs.high ^ rhs.high, low: lhs.low ^ rhs.low)
        }
    }

    private let key: String
    private let history: [HistoryOperation]
    /// By position: the operation's index in the history.
    private var operations: [Int] = []
    /// By position: what the operation does.
    private var transitions: [RegisterTransition] = []
    /// By position: whether the operation's outcome is unknown.
    private var isUncertain: [Bool] = []
    /// By position: the operation's Zobrist key.
    private var zobristKeys: [Fingerprint] = []
    /// By value: the positions of uncertain operations that may write it.
    private var uncertainWriters: [[Int]] = []
    /// By value: how many operations observing it are neither linearized nor retired.
    private var observersLeft: [Int] = []
    /// By value: the bytes, `nil` for an absent key (value 0).
    private var values: [[UInt8]?] = [nil]
    private var valueIDs: [[UInt8]: Int] = [:]

    // The event list: node 0 is the head, nodes 1... are events in time order. `none`
    // ends the list.
    private static let none = -1
    private var next: [Int] = []
    private var previous: [Int] = []
    private var operationOfEvent: [Int] = []
    private var isCall: [Bool] = []
    private var returnOfCall: [Int] = []
    private var callOfOperation: [Int] = []

    /// Prepares the search over `history[indexes]`, all of which act on `key`.
    init(key: String, history: [HistoryOperation], indexes: [Int]) {
        self.key = key
        self.history = history
        selectOperations(indexes)
        buildEvents()
    }

    /// Searches for a linearization, giving up after `maximumSteps`.
    mutating func run(maximumSteps: Int) -> LinearizabilityResult {
        var linearized = OperationSet(capacity: operations.count)
        var fingerprint = Fingerprint(high: 0, low: 0)
        var explored: Set<Fingerprint> = []
        var undo: [(call: Int, state: Int, retired: [Int])] = []
        var state = 0
        var deepest = (depth: 0, linearized: linearized, state: 0, recent: [Int]())
        var entry = next[0]
        var steps = 0
        while next[0] != Self.none {
            steps += 1
            guard steps <= maximumSteps else {
                return .unknown(
                    "the search for key \(key) ran out of its \(maximumSteps) steps on \(operations.count) operations")
            }
            let operation = operationOfEvent[entry]
            if isCall[entry] {
                guard let newState = transitions[operation].apply(to: state) else {
                    entry = next[entry]
                    continue
                }
                let retired = retire(byLinearizing: entry, linearized: linearized)
                var extended = fingerprint ^ zobristKeys[operation]
                for writer in retired { extended = extended ^ zobristKeys[writer] }
                let memoState = observersLeft[newState] > 0 ? newState : Self.none
                if explored.insert(extended ^ Self.fingerprint(ofState: memoState)).inserted {
                    undo.append((entry, state, retired))
                    state = newState
                    fingerprint = extended
                    linearized.insert(operation)
                    for writer in retired { linearized.insert(writer) }
                    if undo.count > deepest.depth {
                        let recent = undo.suffix(3).map { operationOfEvent[$0.call] }
                        deepest = (undo.count, linearized, state, recent)
                    }
                    entry = next[0]
                    continue
                }
                unretire(byUnlinearizing: entry, retired: retired)
                // An observation that fits, linearized now, leads to a configuration
                // already searched in vain: so does this one.
                if !transitions[operation].isObservation {
                    entry = next[entry]
                    continue
                }
            } else if isUncertain[operation] {
                return .linearizable
            }
            // Backtrack. An observation was linearized as soon as it fitted, which loses no
            // linearization, so trying it later is pointless: undo the choice before it too.
            while true {
                guard let (call, earlierState, retired) = undo.popLast() else {
                    return violation(linearized: deepest.linearized, state: deepest.state, recent: deepest.recent)
                }
                let undone = operationOfEvent[call]
                state = earlierState
                linearized.remove(undone)
                fingerprint = fingerprint ^ zobristKeys[undone]
                for writer in retired {
                    linearized.remove(writer)
                    fingerprint = fingerprint ^ zobristKeys[writer]
                }
                unretire(byUnlinearizing: call, retired: retired)
                entry = next[call]
                if !transitions[undone].isObservation { break }
            }
        }
        return .linearizable
    }

    // `none` stands for any value that no remaining operation observes: such values are
    // interchangeable, since every read or compare-and-set still to come fails on each of
    // them alike.
    private static func fingerprint(ofState state: Int) -> Fingerprint {
        var mixer = SplitMix64(seed: UInt64(bitPattern: Int64(state)))
        return Fingerprint(high: mixer.next(), low: mixer.next())
    }

    // MARK: Linearizing and retiring

    // Linearizes the operation of `call`, then retires the uncertain operations, not yet
    // linearized, whose value nothing observes any more; retiring one may leave its own
    // observed value unobserved in turn. Returns the retired operations in order.
    private mutating func retire(byLinearizing call: Int, linearized: OperationSet) -> [Int] {
        let operation = operationOfEvent[call]
        lift(call)
        var retired: [Int] = []
        var unobserved = transitions[operation].observedValue
        var cascade: [Int] = []
        while let value = unobserved {
            observersLeft[value] -= 1
            if observersLeft[value] == 0 {
                for writer in uncertainWriters[value]
                where writer != operation && !linearized.contains(writer) && !retired.contains(writer) {
                    retired.append(writer)
                    lift(callOfOperation[writer])
                    if let observed = transitions[writer].observedValue { cascade.append(observed) }
                }
            }
            unobserved = cascade.popLast()
        }
        return retired
    }

    // Undoes `retire(byLinearizing:linearized:)`, in reverse.
    private mutating func unretire(byUnlinearizing call: Int, retired: [Int]) {
        for writer in retired.reversed() {
            unlift(callOfOperation[writer])
            if let observed = transitions[writer].observedValue { observersLeft[observed] += 1 }
        }
        unlift(call)
        if let observed = transitions[operationOfEvent[call]].observedValue { observersLeft[observed] += 1 }
    }

    // MARK: Preparation

    // Keeps the operations that can matter. A get whose outcome is unknown constrains
    // nothing, and an uncertain write of a value nothing observes is retired from the
    // start; retiring one can leave another's value unobserved, hence the loop.
    private mutating func selectOperations(_ indexes: [Int]) {
        var candidates: [(index: Int, transition: RegisterTransition, uncertain: Bool)] = []
        for index in indexes {
            let operation = history[index]
            guard let transition = transition(of: operation) else { continue }
            candidates.append((index, transition, operation.outcome == .unknown))
        }
        observersLeft = Array(repeating: 0, count: values.count)
        for candidate in candidates {
            if let observed = candidate.transition.observedValue { observersLeft[observed] += 1 }
        }
        var kept = Array(repeating: true, count: candidates.count)
        var changed = true
        while changed {
            changed = false
            for (position, candidate) in candidates.enumerated() where kept[position] && candidate.uncertain {
                guard let written = candidate.transition.writtenValue else { continue }
                let ownObservation = candidate.transition.observedValue == written ? 1 : 0
                guard observersLeft[written] == ownObservation else { continue }
                kept[position] = false
                changed = true
                if let observed = candidate.transition.observedValue { observersLeft[observed] -= 1 }
            }
        }
        uncertainWriters = Array(repeating: [], count: values.count)
        for (position, candidate) in candidates.enumerated() where kept[position] {
            if candidate.uncertain, let written = candidate.transition.writtenValue {
                uncertainWriters[written].append(operations.count)
            }
            operations.append(candidate.index)
            transitions.append(candidate.transition)
            isUncertain.append(candidate.uncertain)
        }
        var random = SplitMix64(seed: 0x5EED_0F_2B15_7A7E)
        zobristKeys = transitions.indices.map { _ in Fingerprint(high: random.next(), low: random.next()) }
    }

    // `nil` for an operation that constrains nothing: a get whose outcome is unknown.
    private mutating func transition(of operation: HistoryOperation) -> RegisterTransition? {
        switch (operation.command, operation.outcome) {
        case (.put(_, let value), .completed(.ok, _)), (.put(_, let value), .unknown):
            return .write(intern(value))
        case (.get, .completed(.value(let value), _)):
            return .read(observed: intern(value))
        case (.compareAndSet(_, let expected, let new), .completed(.ok, _)):
            return .swap(expected: intern(expected), new: intern(new))
        case (.compareAndSet(_, let expected, _), .completed(.casFailed(let current), _)):
            return expected == current ? .impossible : .failedSwap(current: intern(current))
        case (.compareAndSet(_, let expected, let new), .unknown):
            return .maybeSwap(expected: intern(expected), new: intern(new))
        case (.get, .unknown):
            return nil
        case (.put, .completed), (.get, .completed), (.compareAndSet, .completed):
            return .impossible
        // The register model knows puts, gets and compare-and-sets only; a history holding
        // another command cannot be checked as one register.
        case (.set, _), (.delete, _), (.increment, _), (.append, _), (.setMany, _), (.getSet, _), (.batch, _):
            return .impossible
        }
    }

    private mutating func intern(_ value: [UInt8]?) -> Int {
        guard let value else { return 0 }
        if let id = valueIDs[value] { return id }
        values.append(value)
        valueIDs[value] = values.count - 1
        return values.count - 1
    }

    private mutating func buildEvents() {
        // (time, kind, position): the sort key of an event. The kind is 0 for a call, 1
        // for a return and 2 for the infinitely late return of an uncertain operation,
        // which must come after every other event.
        var events: [(time: UInt64, kind: Int, position: Int)] = []
        events.reserveCapacity(2 * operations.count)
        for (position, index) in operations.enumerated() {
            let operation = history[index]
            events.append((operation.invokedAt, 0, position))
            switch operation.outcome {
            case .completed(_, let at): events.append((at, 1, position))
            case .unknown: events.append((.max, 2, position))
            }
        }
        events.sort { ($0.time, $0.kind, $0.position) < ($1.time, $1.kind, $1.position) }
        let count = events.count + 1
        next = (0..<count).map { $0 + 1 < count ? $0 + 1 : Self.none }
        previous = (0..<count).map { $0 - 1 }
        operationOfEvent = [Self.none] + events.map(\.position)
        isCall = [false] + events.map { $0.kind == 0 }
        returnOfCall = Array(repeating: Self.none, count: count)
        callOfOperation = Array(repeating: Self.none, count: operations.count)
        for (offset, event) in events.enumerated() {
            if event.kind == 0 {
                callOfOperation[event.position] = offset + 1
            } else {
                returnOfCall[callOfOperation[event.position]] = offset + 1
            }
        }
    }

    // MARK: The event list

    // A call always has its own return after it, so it is never last in the list.
    private mutating func lift(_ call: Int) {
        next[previous[call]] = next[call]
        previous[next[call]] = previous[call]
        let response = returnOfCall[call]
        next[previous[response]] = next[response]
        if next[response] != Self.none {
            previous[next[response]] = previous[response]
        }
    }

    private mutating func unlift(_ call: Int) {
        let response = returnOfCall[call]
        next[previous[response]] = response
        if next[response] != Self.none {
            previous[next[response]] = response
        }
        next[previous[call]] = call
        previous[next[call]] = call
    }

    // MARK: Explanation

    // The operations left at the deepest point that could go first, being invoked before
    // any remaining operation returned; none of them leads to a linearization.
    private func violation(linearized: OperationSet, state: Int, recent: [Int]) -> LinearizabilityResult {
        var candidates: [Int] = []
        var node = 1
        while node < isCall.count {
            let operation = operationOfEvent[node]
            if !linearized.contains(operation) {
                guard isCall[node] else { break }
                candidates.append(operation)
            }
            node += 1
        }
        let depth = (0..<operations.count).count { linearized.contains($0) }
        var lines = [
            "no linearization of the \(operations.count) operations on key \(key): "
                + "after \(depth) of them the value is \(describe(values[state])), "
                + "and none of these leads to a linearization from there:"
        ]
        lines += candidates.map { "  #\(operations[$0]) \(history[operations[$0]])" }
        if !recent.isEmpty {
            lines.append("the last operations taking effect before that point:")
            lines += recent.map { "  #\(operations[$0]) \(history[operations[$0]])" }
        }
        return .violation(
            key: key, operations: candidates.map { operations[$0] }, explanation: lines.joined(separator: "\n"))
    }
}
