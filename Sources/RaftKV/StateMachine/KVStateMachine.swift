import Raft
import WAL

/// The replicated key-value store as a Raft state machine: applies ``KVCommand``s
/// deterministically and streams its snapshots in bounded chunks.
public struct KVStateMachine: StateMachine {
    public typealias Output = KVResult

    /// The replicated data.
    public private(set) var store = KVStore()

    /// The size of the chunks a snapshot is written in.
    public static let snapshotChunkBytes = 64 << 10

    /// Creates an empty store.
    public init() {}

    /// Applies each command; bytes that are no command (they never pass a proposer's checks)
    /// are answered with an error, the same on every replica, rather than stop the node.
    public mutating func apply(_ commands: [CommittedCommand]) throws -> [KVResult] {
        commands.map { command in
            guard let decoded = try? KVCommand(decoding: command.data) else {
                return .error("ERR undecodable command at index \(command.index)")
            }
            return store.apply(decoded)
        }
    }

    public func writeSnapshot(to sink: inout some SnapshotSink) async throws {
        try await freeze().writeSnapshot(to: &sink)
    }

    public mutating func restore(from snapshot: some AsyncSequence<[UInt8], SnapshotError>) async throws {
        var bytes: [UInt8] = []
        for try await chunk in snapshot { bytes += chunk }
        store = try KVStore(snapshotBytes: bytes)
    }
}
