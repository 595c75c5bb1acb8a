import RaftCore
import RaftSimulation
import Testing

@Suite("KV workload")
struct KVWorkloadTests {
    private static let commands: [KVCommand] = [
        .put(key: "a", value: [1, 2, 3]),
        .put(key: "", value: []),
        .put(key: "clé-🔑", value: Array(repeating: 0xAB, count: 300)),
        .get(key: "a"),
        .get(key: String(repeating: "k", count: 200)),
        .compareAndSet(key: "a", expected: nil, new: [9]),
        .compareAndSet(key: "a", expected: [], new: []),
        .compareAndSet(key: "b", expected: [1, 2, 3], new: [4]),
    ]

    private static let results: [KVResult] = [
        .value(nil), .value([]), .value([1, 2]), .ok, .casFailed(current: nil), .casFailed(current: [7]),
    ]

    @Test("Commands and results survive an encoding round trip")
    func roundTrips() throws {
        for command in Self.commands {
            #expect(try KVCommand(decoding: command.encoded()) == command)
        }
        for result in Self.results {
            #expect(try KVResult(decoding: result.encoded()) == result)
        }
        #expect(KVCommand.get(key: "a").encoded() == [2, 1, 0x61])
    }

    @Test("Malformed commands fail with the right typed error")
    func malformedCommands() {
        #expect(throws: KVCodecError.truncated(offset: 0)) { try KVCommand(decoding: []) }
        #expect(throws: KVCodecError.unknownTag(99, offset: 0)) { try KVCommand(decoding: [99, 0]) }
        #expect(throws: KVCodecError.truncated(offset: 1)) { try KVCommand(decoding: [2, 5, 0x61]) }
        #expect(throws: KVCodecError.trailingBytes(count: 2)) { try KVCommand(decoding: [2, 1, 0x61, 0, 0]) }
        #expect(throws: KVCodecError.invalidKey(offset: 1)) { try KVCommand(decoding: [2, 2, 0xC3, 0x28]) }
        #expect(throws: KVCodecError.unknownTag(7, offset: 3)) { try KVCommand(decoding: [3, 1, 0x61, 7]) }
        let overlong: [UInt8] = [2] + Array(repeating: 0xFF, count: 10) + [0x01]
        #expect(throws: KVCodecError.malformedLength(offset: 1)) { try KVCommand(decoding: overlong) }
        let tooLongForInt: [UInt8] = [2, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]
        #expect(throws: KVCodecError.malformedLength(offset: 1)) { try KVCommand(decoding: tooLongForInt) }
        #expect(throws: KVCodecError.malformedLength(offset: 1)) { try KVCommand(decoding: [2, 0x80, 0x00]) }
        #expect(throws: KVCodecError.unknownTag(0, offset: 0)) { try KVResult(decoding: [0]) }
        #expect(throws: KVCodecError.trailingBytes(count: 1)) { try KVResult(decoding: [2, 0]) }
    }

    @Test("Every truncation and random bytes decode to an error or to a faithful command, never a trap")
    func fuzz() {
        for command in Self.commands {
            let bytes = command.encoded()
            for length in 0..<bytes.count {
                #expect(throws: KVCodecError.self) { try KVCommand(decoding: Array(bytes[..<length])) }
            }
        }
        var random = SplitMix64(seed: 99)
        for _ in 0..<20_000 {
            let bytes = (0..<Int.random(in: 0...12, using: &random)).map { _ in
                UInt8.random(in: 0...5, using: &random) | (Bool.random(using: &random) ? 0 : 0x80)
            }
            if let command = try? KVCommand(decoding: bytes) { #expect(command.encoded() == bytes) }
            if let result = try? KVResult(decoding: bytes) { #expect(result.encoded() == bytes) }
            if let store = try? KVStore(snapshotBytes: bytes) { #expect(store.snapshotBytes() == bytes) }
        }
    }

    @Test("The store applies puts, gets and compare-and-sets")
    func semantics() {
        var store = KVStore()
        #expect(store.apply(.get(key: "a")) == .value(nil))
        #expect(store.apply(.compareAndSet(key: "a", expected: [1], new: [2])) == .casFailed(current: nil))
        #expect(store.apply(.compareAndSet(key: "a", expected: nil, new: [1])) == .ok)
        #expect(store.apply(.put(key: "b", value: [5])) == .ok)
        #expect(store.apply(.compareAndSet(key: "a", expected: [1], new: [2])) == .ok)
        #expect(store.apply(.compareAndSet(key: "a", expected: [1], new: [3])) == .casFailed(current: [2]))
        #expect(store.apply(.get(key: "a")) == .value([2]))
        #expect(store["b"] == [5] && store.values.count == 2)
    }

    @Test("A snapshot round trip keeps the contents and the digest, whatever the insertion order")
    func snapshots() throws {
        var forward = KVStore()
        var backward = KVStore()
        let keys = (0..<50).map { "key\($0)" }
        for key in keys { forward.apply(.put(key: key, value: Array(key.utf8))) }
        for key in keys.reversed() { backward.apply(.put(key: key, value: Array(key.utf8))) }
        #expect(forward.snapshotBytes() == backward.snapshotBytes())
        #expect(forward.digest == backward.digest)
        let restored = try KVStore(snapshotBytes: forward.snapshotBytes())
        #expect(restored == forward && restored.digest == forward.digest)
        #expect(try KVStore(snapshotBytes: KVStore().snapshotBytes()) == KVStore())

        backward.apply(.put(key: "key7", value: [0]))
        #expect(backward.digest != forward.digest)
        #expect(KVStore().digest != forward.digest)
    }

    @Test("Malformed snapshots fail with typed errors")
    func malformedSnapshots() {
        #expect(throws: KVCodecError.notASnapshot) { try KVStore(snapshotBytes: Array("KVS2".utf8) + [0]) }
        #expect(throws: KVCodecError.truncated(offset: 0)) { try KVStore(snapshotBytes: []) }
        let duplicated = Array("KVS1".utf8) + [2, 1, 0x61, 0, 1, 0x61, 0]
        #expect(throws: KVCodecError.duplicateKey("a")) { try KVStore(snapshotBytes: duplicated) }
        let huge = Array("KVS1".utf8) + [0xFF, 0xFF, 0xFF, 0xFF, 0x0F]
        #expect(throws: KVCodecError.truncated(offset: 9)) { try KVStore(snapshotBytes: huge) }
    }
}
