import Raft

/// The store frozen at one applied index, so that `RaftNode` writes its snapshot on another
/// task while the node goes on applying and sending heartbeats.
///
/// Freezing copies the `KVStore` value: O(1), since its storage is copy-on-write. The first
/// write after it copies the dictionary once, on the run loop; that costs far less than
/// encoding and compressing the whole store there, which is what it saves.
public struct FrozenKVStore: FrozenState {
    let store: KVStore

    /// Writes the frozen store in chunks of ``KVStateMachine/snapshotChunkBytes``.
    ///
    /// - Parameter sink: Where the snapshot's bytes go.
    /// - Throws: What the sink throws.
    public func writeSnapshot(to sink: inout some SnapshotSink) async throws {
        for chunk in store.snapshotChunks(chunkBytes: KVStateMachine.snapshotChunkBytes) { try await sink.write(chunk) }
    }
}

extension KVStateMachine: FreezableStateMachine {
    /// The store as it is now; later applies do not change it.
    public func freeze() -> FrozenKVStore {
        FrozenKVStore(store: store)
    }
}
