import Testing
@testable import RaftCore

/// Small building blocks: quorum arithmetic, the in-flight window, progress
/// back-off, the unstable log, the conf-change codec and rules, storage.
@Suite("Building blocks")
struct UnitTests {
    @Test("Majority: the committed index is the highest index a majority holds")
    func majorityCommittedIndex() {
        let matches: [NodeID: UInt64] = [1: 5, 2: 3, 3: 9, 4: 1, 5: 3]
        #expect(MajorityQuorum.committedIndex(voters: [1, 2, 3, 4, 5]) { matches[$0] ?? 0 } == 3)
        #expect(MajorityQuorum.committedIndex(voters: [1, 2, 3, 4]) { matches[$0] ?? 0 } == 3)
        #expect(MajorityQuorum.committedIndex(voters: [3]) { matches[$0] ?? 0 } == 9)
        #expect(MajorityQuorum.committedIndex(voters: []) { matches[$0] ?? 0 } == .max)
    }

    @Test("Majority: vote results are won, lost or pending, ignoring non-voters")
    func majorityVotes() {
        #expect(MajorityQuorum.voteResult(voters: [1, 2, 3], votes: [1: true, 2: true]) == .won)
        #expect(MajorityQuorum.voteResult(voters: [1, 2, 3], votes: [1: true, 2: false]) == .pending)
        #expect(MajorityQuorum.voteResult(voters: [1, 2, 3], votes: [1: false, 2: false]) == .lost)
        #expect(MajorityQuorum.voteResult(voters: [1, 2, 3], votes: [1: true, 7: true, 8: true]) == .pending)
        #expect(MajorityQuorum.voteResult(voters: [1, 2, 3, 4], votes: [1: true, 2: true]) == .pending)
    }

    @Test("Inflights: the window is bounded by count and by bytes, and frees in order")
    func inflightsBounds() {
        var byCount = Inflights(maxCount: 3, maxBytes: 1_000)
        byCount.add(index: 1, bytes: 10)
        byCount.add(index: 2, bytes: 10)
        #expect(!byCount.isFull)
        byCount.add(index: 3, bytes: 10)
        #expect(byCount.isFull)
        byCount.free(through: 2)
        #expect(byCount.count == 1 && byCount.bytes == 10 && !byCount.isFull)
        byCount.add(index: 4, bytes: 10)
        byCount.add(index: 5, bytes: 10)
        #expect(byCount.isFull)
        byCount.free(through: 5)
        #expect(byCount.count == 0 && byCount.bytes == 0)

        var byBytes = Inflights(maxCount: 100, maxBytes: 100)
        byBytes.add(index: 1, bytes: 60)
        #expect(!byBytes.isFull)
        byBytes.add(index: 2, bytes: 60)
        #expect(byBytes.isFull, "full once the bytes in flight reach the limit")
        byBytes.free(through: 1)
        #expect(!byBytes.isFull)
    }

    @Test("Inflights: the ring wraps around many times without losing track")
    func inflightsWrap() {
        var window = Inflights(maxCount: 4, maxBytes: .max)
        var next: UInt64 = 1
        for round in 0..<50 {
            while !window.isFull {
                window.add(index: next, bytes: 1)
                next += 1
            }
            window.free(through: next - UInt64(1 + round % 3))
            #expect(window.count == round % 3)
        }
    }

    @Test("Progress: a probe backs off using the hint, never below match + 1, and ignores stale rejections")
    func progressBackOff() {
        var progress = Progress(next: 11, isLearner: false, maxInflightMessages: 4, maxInflightBytes: 1_000)
        progress.match = 3
        let first = progress.backOff(rejected: 10, hint: 6)
        #expect(first && progress.next == 7)
        let stale = progress.backOff(rejected: 10, hint: 2)
        #expect(!stale, "stale: the outstanding probe was at 6")
        let second = progress.backOff(rejected: 6, hint: 0)
        #expect(second && progress.next == 4, "never below match + 1")
        _ = progress.acknowledge(through: 5)
        progress.becomeReplicate()
        #expect(progress.next == 6)
        let belowMatch = progress.backOff(rejected: 4, hint: 0)
        #expect(!belowMatch, "a rejection at or below match is stale in replicate state")
    }

    @Test("UnstableLog: truncate-and-append handles append, replace-all and replace-suffix")
    func unstableTruncateAndAppend() {
        var unstable = UnstableLog(offset: 5)
        unstable.truncateAndAppend(entries(term: 1, from: 5, count: 3))
        #expect(unstable.lastIndexIfKnown == 7)
        unstable.truncateAndAppend(entries(term: 2, from: 6, count: 1))
        #expect(unstable.entries.map(\.term) == [1, 2])
        unstable.truncateAndAppend(entries(term: 3, from: 4, count: 2))
        #expect(unstable.offset == 4 && unstable.entries.map(\.term) == [3, 3])
        unstable.stable(through: 4, term: 2)
        #expect(unstable.offset == 4, "a term mismatch means the durable write was superseded")
        unstable.stable(through: 4, term: 3)
        #expect(unstable.offset == 5 && unstable.entries.count == 1)
    }

    @Test("ConfChange: the codec round-trips and rejects malformed bytes")
    func confChangeCodec() {
        let change = ConfChange([.addVoter(1), .addLearner(.max), .remove(42)])
        #expect(ConfChange(decoding: change.encoded()) == change)
        #expect(ConfChange(decoding: ConfChange.leaveJoint.encoded())?.isLeaveJoint == true)
        #expect(ConfChange(decoding: [1, 2, 3]) == nil)
        #expect(ConfChange(decoding: [9, 0, 0, 0, 0, 0, 0, 0, 1]) == nil)
    }

    @Test("ConfChanger: one voter changes in a single step, several through a joint configuration")
    func confChangerRules() throws {
        let base = Configuration(voters: [1, 2, 3])
        #expect(try ConfChanger.apply(ConfChange([.addVoter(4)]), to: base).get() == Configuration(voters: [1, 2, 3, 4]))
        #expect(try ConfChanger.apply(ConfChange([.addLearner(3)]), to: base).get() == Configuration(voters: [1, 2], learners: [3]))
        #expect(try ConfChanger.apply(ConfChange([.addVoter(4), .addVoter(5)]), to: base).get()
            == Configuration(voters: [1, 2, 3, 4, 5], outgoingVoters: [1, 2, 3]))
        let joint = Configuration(voters: [1, 4, 5], outgoingVoters: [1, 2, 3])
        #expect(try ConfChanger.apply(.leaveJoint, to: joint).get() == Configuration(voters: [1, 4, 5]))
        #expect(throws: ConfChangeError.alreadyJoint) { try ConfChanger.apply(ConfChange([.addVoter(6)]), to: joint).get() }
        #expect(throws: ConfChangeError.invalidNodeID) { try ConfChanger.apply(ConfChange([.addVoter(0)]), to: base).get() }
    }

    @Test("MemoryLogStorage: append replaces a conflicting suffix; compaction keeps terms at the boundary")
    func memoryStorage() {
        var storage = makeStorage(voters: [1], terms: [1, 1, 1, 1])
        storage.append(entries(term: 2, from: 3, count: 1))
        #expect(storage.lastIndex == 3 && storage.term(at: 3) == 2)
        storage.compact(through: 2, configuration: Configuration(voters: [1]))
        #expect(storage.firstIndex == 3 && storage.term(at: 2) == 1 && storage.term(at: 1) == nil)
        #expect(storage.entries(in: 3..<4, maxBytes: 0).count == 1, "at least one entry even over the byte limit")
    }

    @Test("SplitMix64: the same seed gives the same sequence, different seeds differ")
    func splitMix() {
        var a = SplitMix64(seed: 42)
        var b = SplitMix64(seed: 42)
        var c = SplitMix64(seed: 43)
        let first = (0..<8).map { _ in a.next() }
        #expect(first == (0..<8).map { _ in b.next() })
        #expect(first != (0..<8).map { _ in c.next() })
    }
}
