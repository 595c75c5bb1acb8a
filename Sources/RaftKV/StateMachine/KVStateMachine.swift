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

    /// A planted fault, for proving that the checks built on this store can fail: the first
    /// plain write (`SET` or a put) to this key is answered as applied but not stored, as a
    /// replica that loses a write would. `nil`, as in every real deployment, plants nothing.
    public private(set) var plantedLostWrite: String?

    /// Told every member record (see ``MemberDirectory``) after an applied command or a
    /// restored snapshot may have changed them, on the node's run loop: so a node learns
    /// where the members listen from its own applied state, without a read through a leader
    /// it may not yet know how to reach. It must return quickly; it changes nothing replicated.
    public var onMemberRecordsChanged: (@Sendable ([UInt64: MemberDirectory.Addresses]) -> Void)?

    /// Creates an empty store.
    public init() {}

    /// Creates an empty store that loses the first plain write to `key` (see
    /// ``plantedLostWrite``): for fault-injection tests only.
    ///
    /// - Parameter key: The key whose first write is lost.
    public init(losingFirstWriteTo key: String) {
        plantedLostWrite = key
    }

    /// Applies each command; bytes that are no command (they never pass a proposer's checks)
    /// are answered with an error, the same on every replica, rather than stop the node.
    public mutating func apply(_ commands: [CommittedCommand]) throws -> [KVResult] {
        var recordsChanged = false
        let results = commands.map { command in
            guard let decoded = try? KVCommand(decoding: command.data) else {
                return KVResult.error("ERR undecodable command at index \(command.index)")
            }
            if onMemberRecordsChanged != nil, MemberDirectory.mayChangeRecords(decoded) { recordsChanged = true }
            return apply(decoded)
        }
        if recordsChanged { onMemberRecordsChanged?(MemberDirectory.members(in: store)) }
        return results
    }

    private mutating func apply(_ command: KVCommand) -> KVResult {
        guard let key = plantedLostWrite else { return store.apply(command) }
        switch command {
        case .batch(let commands):
            return .batch(commands.map { apply($0) })
        case .put(key, _), .set(key, _, .always, false):
            plantedLostWrite = nil
            return .ok
        default:
            return store.apply(command)
        }
    }

    public func writeSnapshot(to sink: inout some SnapshotSink) async throws {
        try await freeze().writeSnapshot(to: &sink)
    }

    public mutating func restore(from snapshot: some AsyncSequence<[UInt8], SnapshotError>) async throws {
        var bytes: [UInt8] = []
        for try await chunk in snapshot { bytes += chunk }
        store = try KVStore(snapshotBytes: bytes)
        onMemberRecordsChanged?(MemberDirectory.members(in: store))
    }
}
