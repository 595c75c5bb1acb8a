import Raft
import RaftKV
import Testing

@Suite struct KVStoreTests {
    @Test func snapshotChunksJoinToTheCanonicalSnapshotWhateverTheChunkSize() {
        var store = KVStore()
        for index in 0..<200 { store.apply(.put(key: "key\(index)", value: Array(repeating: UInt8(index % 256), count: index))) }
        for size in [1, 7, 100, 4096, 1 << 20] {
            let chunks = Array(store.snapshotChunks(chunkBytes: size))
            #expect(chunks.flatMap { $0 } == store.snapshotBytes(), "chunk size \(size)")
            if size == 100 { #expect(chunks.count > 10, "a small chunk size gives many chunks") }
        }
        #expect(Array(KVStore().snapshotChunks(chunkBytes: 10)).flatMap { $0 } == KVStore().snapshotBytes())
    }

    @Test func aPlantedLostWriteLosesExactlyTheFirstPlainWriteToItsKey() throws {
        var machine = KVStateMachine(losingFirstWriteTo: "x")
        func apply(_ command: KVCommand, at index: UInt64) throws -> KVResult {
            try machine.apply([CommittedCommand(index: index, term: 1, data: command.encoded())])[0]
        }
        #expect(try apply(.batch([.put(key: "y", value: [1]), .put(key: "x", value: [2])]), at: 2) == .batch([.ok, .ok]))
        #expect(machine.store["y"] == [1], "other keys are written")
        #expect(machine.store["x"] == nil, "the first write to x is answered but lost")
        #expect(try apply(.put(key: "x", value: [3]), at: 3) == .ok)
        #expect(machine.store["x"] == [3], "only the first write is lost")
        #expect(machine.plantedLostWrite == nil)

        var healthy = KVStateMachine()
        _ = try healthy.apply([CommittedCommand(index: 2, term: 1, data: KVCommand.put(key: "x", value: [2]).encoded())])
        #expect(healthy.store["x"] == [2], "without the planted fault nothing is lost")
    }

    @Test func everyCommandRoundTripsThroughItsEncoding() throws {
        let commands: [KVCommand] = [
            .put(key: "a", value: [1]), .get(key: "a"), .compareAndSet(key: "a", expected: nil, new: [2]),
            .set(key: "b", value: [3], condition: .ifAbsent, returnOld: true), .delete(keys: ["a", "b"]),
            .increment(key: "n", by: -9_223_372_036_854_775_808), .append(key: "a", value: []),
            .setMany([.init(key: "x", value: [9]), .init(key: "y", value: [])]), .getSet(key: "g", value: [7]),
            .batch([.put(key: "p", value: [1]), .increment(key: "n", by: 5)]),
        ]
        for command in commands {
            #expect(try KVCommand(decoding: command.encoded()) == command, "\(command)")
        }
        let results: [KVResult] = [.ok, .value(nil), .value([1]), .casFailed(current: nil), .integer(-5), .error("ERR x"), .batch([.ok, .integer(1)])]
        for result in results {
            #expect(try KVResult(decoding: result.encoded()) == result, "\(result)")
        }
    }

    @Test func truncatedOrNestedBatchesAreTypedErrors() {
        let encoded = KVCommand.setMany([.init(key: "x", value: [1, 2, 3])]).encoded()
        for length in 0..<encoded.count {
            #expect(throws: KVCodecError.self) { try KVCommand(decoding: Array(encoded.prefix(length))) }
        }
        let nested = KVCommand.batch([.batch([])])
        #expect(throws: KVCodecError.self) { try KVCommand(decoding: nested.encoded()) }
    }

    @Test func appendRefusesToGrowAValuePastTheLimitOnEveryReplicaAlike() {
        var store = KVStore()
        store.apply(.put(key: "k", value: Array(repeating: 0, count: KVStore.maxValueBytes)))
        let result = store.apply(.append(key: "k", value: [1]))
        guard case .error = result else { return #expect(Bool(false), "refused: \(result)") }
        #expect(store["k"]?.count == KVStore.maxValueBytes)
    }
}
