import RaftCore
import RaftSimulation
import Testing

@Suite("Linearizability checker")
struct LinearizabilityCheckerTests {
    private let checker = LinearizabilityChecker()

    private func isViolation(_ result: LinearizabilityResult, key: String? = nil) -> Bool {
        guard case .violation(let found, _, _) = result else { return false }
        return key.map { $0 == found } ?? true
    }

    @Test("An empty history and a sequential one are linearizable")
    func sequential() {
        #expect(checker.check([]) == .linearizable)
        let history = [
            History.get(1, "x", nil, 0, 5),
            History.put(1, "x", 1, 10, 20),
            History.get(2, "x", 1, 30, 40),
            History.cas(1, "x", 1, 2, .ok, 50, 60),
            History.get(2, "x", 2, 70, 80),
        ]
        #expect(checker.check(history) == .linearizable)
    }

    @Test("A stale read after a completed put is a violation that names the read")
    func staleRead() {
        let history = [
            History.put(1, "x", 1, 0, 10),
            History.put(1, "x", 2, 20, 30),
            History.get(2, "x", 1, 40, 50),
        ]
        guard case .violation(let key, let operations, let explanation) = checker.check(history) else {
            Issue.record("a stale read was accepted")
            return
        }
        #expect(key == "x")
        #expect(operations == [2])
        #expect(explanation.contains("get(x)"))
    }

    @Test("Overlapping operations may take effect in either order")
    func concurrentButLinearizable() {
        let history = [
            History.put(1, "x", 1, 0, 100),
            History.get(2, "x", nil, 5, 15),
            History.get(3, "x", 1, 10, 20),
            History.put(4, "x", 2, 30, 90),
            History.get(2, "x", 1, 40, 50),
            History.get(3, "x", 2, 60, 70),
        ]
        #expect(checker.check(history) == .linearizable)
    }

    @Test("Operations that touch at one tick count as concurrent")
    func touchingIntervals() {
        let history = [History.put(1, "x", 1, 0, 10), History.get(2, "x", nil, 10, 20)]
        #expect(checker.check(history) == .linearizable)
    }

    @Test("A value seen during a put cannot vanish again")
    func newThenOldRead() {
        let history = [
            History.put(1, "x", 1, 0, 100),
            History.get(2, "x", 1, 10, 20),
            History.get(3, "x", nil, 30, 40),
        ]
        #expect(isViolation(checker.check(history), key: "x"))
    }

    @Test("A lost update: two compare-and-sets from the same value both succeed")
    func lostUpdate() {
        let history = [
            History.cas(1, "x", nil, 1, .ok, 0, 10),
            History.cas(2, "x", nil, 2, .ok, 5, 15),
        ]
        #expect(isViolation(checker.check(history)))
        let overwritten = [
            History.put(1, "x", 1, 0, 10),
            History.put(2, "x", 2, 20, 30),
            History.get(3, "x", 1, 40, 50),
            History.get(3, "x", 2, 60, 70),
        ]
        #expect(isViolation(checker.check(overwritten)))
    }

    @Test("Compare-and-set: failures must report the current value, and must not match it")
    func compareAndSetAnomalies() {
        let base = [History.put(1, "x", 1, 0, 10)]
        #expect(checker.check(base + [History.cas(2, "x", 2, 3, .casFailed(current: [1]), 20, 30)]) == .linearizable)
        #expect(isViolation(checker.check(base + [History.cas(2, "x", 2, 3, .casFailed(current: [2]), 20, 30)])))
        #expect(isViolation(checker.check(base + [History.cas(2, "x", 1, 3, .casFailed(current: [1]), 20, 30)])))
        #expect(isViolation(checker.check(base + [History.cas(2, "x", 2, 3, .ok, 20, 30)])))
        let swapped = base + [History.cas(2, "x", 1, 3, .ok, 20, 30), History.get(3, "x", 3, 40, 50)]
        #expect(checker.check(swapped) == .linearizable)
    }

    @Test("A result of the wrong kind for its command is a violation")
    func impossibleResult() {
        let history = [History.operation(1, .put(key: "x", value: [1]), .value([1]), 0, 10)]
        #expect(isViolation(checker.check(history)))
    }

    @Test("A timed-out put may show up later, or never")
    func timedOutPut() {
        let appears = [
            History.put(1, "x", 1, 0, nil),
            History.get(2, "x", nil, 10, 20),
            History.get(2, "x", 1, 100, 110),
        ]
        #expect(checker.check(appears) == .linearizable)
        let never = [History.put(1, "x", 1, 0, nil), History.get(2, "x", nil, 100, 110)]
        #expect(checker.check(never) == .linearizable)
        let beforeInvocation = [History.get(2, "x", 1, 0, 10), History.put(1, "x", 1, 20, nil)]
        #expect(isViolation(checker.check(beforeInvocation)))
    }

    @Test("A timed-out put, once observed, cannot be un-observed")
    func timedOutPutObservedThenLost() {
        let history = [
            History.put(1, "x", 1, 0, nil),
            History.get(2, "x", 1, 10, 20),
            History.get(3, "x", nil, 30, 40),
        ]
        #expect(isViolation(checker.check(history), key: "x"))
    }

    @Test("A timed-out compare-and-set takes effect only where it finds its expected value")
    func timedOutCompareAndSet() {
        let allowed = [
            History.put(1, "x", 1, 0, 10),
            History.cas(2, "x", 1, 2, .ok, 20, nil),
            History.get(3, "x", 2, 30, 40),
        ]
        #expect(checker.check(allowed) == .linearizable)
        let impossible = [
            History.put(1, "x", 1, 0, 10),
            History.cas(2, "x", 5, 2, .ok, 20, nil),
            History.get(3, "x", 2, 30, 40),
        ]
        #expect(isViolation(checker.check(impossible)))
    }

    @Test("Keys are checked independently, and the violation names its key")
    func perKeyIndependence() {
        let history = [
            History.put(1, "a", 1, 0, 10),
            History.get(2, "b", 1, 20, 30),
            History.get(2, "a", 1, 20, 30),
        ]
        guard case .violation(let key, let operations, _) = checker.check(history) else {
            Issue.record("a read of a value written only to another key was accepted")
            return
        }
        #expect(key == "b")
        #expect(operations == [1])
        let separate = [
            History.put(1, "a", 1, 0, 100),
            History.put(2, "b", 2, 0, 100),
            History.get(3, "a", 1, 10, 20),
            History.get(3, "b", nil, 30, 40),
            History.get(4, "b", 2, 50, 60),
            History.get(4, "a", nil, 5, 6),
        ]
        #expect(checker.check(separate) == .linearizable)
    }

    @Test("A search past its budget answers unknown")
    func budget() {
        var history: [HistoryOperation] = (0..<40).map { History.put($0, "x", UInt8($0), 0, 1_000) }
        history.append(History.get(99, "x", 200, 2_000, 2_010))
        let result = LinearizabilityChecker(maximumStepsPerKey: 1_000).check(history)
        guard case .unknown(let reason) = result else {
            Issue.record("expected unknown, got \(result)")
            return
        }
        #expect(reason.contains("x"))
        #expect(LinearizabilityChecker().check(Array(history.dropLast())) == .linearizable)
    }

    @Test("A response before its invocation makes the history malformed")
    func malformed() {
        let history = [History.put(1, "x", 1, 10, 5)]
        guard case .unknown = checker.check(history) else {
            Issue.record("a malformed history got a verdict")
            return
        }
    }

    @Test(
        "Large random linearizable histories pass, and one corrupted read fails them", arguments: [1, 2, 3] as [UInt64])
    func randomHistories(seed: UInt64) {
        var history = History.random(seed: seed, count: 3_000, clients: 8, keys: 10)
        #expect(checker.check(history) == .linearizable)
        guard
            let index = history.indices.last(where: {
                if case .completed(.value, _) = history[$0].outcome { true } else { false }
            }),
            case .completed(_, let at) = history[index].outcome
        else {
            Issue.record("the history has no completed read")
            return
        }
        history[index].outcome = .completed(.value([0xFF, 0xFF, 0xFF, 0xFF]), at: at)
        guard case .violation(_, let operations, _) = checker.check(history) else {
            Issue.record("a read of a value never written was accepted")
            return
        }
        #expect(operations.contains(index))
    }
}
