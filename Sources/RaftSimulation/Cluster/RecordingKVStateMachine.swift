import Raft
import RaftKV
import WAL

/// The simulation's state machine: RaftKV's `KVStore` that also records every command it
/// applies, so the harness can check that all replicas apply the same commands at the same
/// indexes.
public struct RecordingKVStateMachine: StateMachine {
    public typealias Output = KVResult

    /// The replicated data.
    public private(set) var store = KVStore()
    /// Commands applied since the harness last took them. A reference, so the harness can
    /// take them through the engine's read-only view of the state machine.
    let appliedLog = AppliedLog()

    /// One applied command, as the state-machine-safety check compares them.
    struct AppliedCommand: Hashable {
        var index: UInt64
        var term: UInt64
        var hash: UInt64
    }

    /// Creates an empty store.
    public init() {}

    public mutating func apply(_ commands: [CommittedCommand]) throws -> [KVResult] {
        try commands.map { command in
            appliedLog.commands.append(AppliedCommand(index: command.index, term: command.term, hash: fnv1a(command.data)))
            return store.apply(try KVCommand(decoding: command.data))
        }
    }

    public func writeSnapshot(to sink: inout some SnapshotSink) async throws {
        let bytes = store.snapshotBytes()
        // Several writes, so that a snapshot spans blocks and chunks as a large one would.
        var offset = 0
        repeat {
            let end = min(bytes.count, offset + 256)
            try await sink.write(Array(bytes[offset..<end]))
            offset = end
        } while offset < bytes.count
    }

    public mutating func restore(from snapshot: some AsyncSequence<[UInt8], SnapshotError>) async throws {
        var bytes: [UInt8] = []
        for try await chunk in snapshot { bytes += chunk }
        store = try KVStore(snapshotBytes: bytes)
    }
}

/// The commands a `KVStateMachine` applied since the last check: index, term and a hash of
/// the bytes.
final class AppliedLog {
    var commands: [RecordingKVStateMachine.AppliedCommand] = []

    func take() -> [RecordingKVStateMachine.AppliedCommand] {
        defer { commands = [] }
        return commands
    }
}
