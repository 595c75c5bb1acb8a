/// What identifies a snapshot file and what its header says.
public struct SnapshotDescriptor: Sendable, Hashable, CustomStringConvertible {
    /// The file's name inside the store's directory.
    public let fileName: String
    /// The index of the last log entry the snapshot includes.
    public let lastIndex: UInt64
    /// The term of that entry.
    public let term: UInt64
    /// The opaque metadata stored with the snapshot.
    public let metadata: [UInt8]
    /// The snapshot's size before compression.
    public let uncompressedSize: UInt64
    /// The file's size: what a chunk reader ships and a receiver receives.
    public let fileSize: Int64

    public var description: String { "\(fileName) (index \(lastIndex), term \(term), \(fileSize) bytes)" }

    init(fileName: String, header: SnapshotHeader, fileSize: Int64) {
        self.fileName = fileName
        self.lastIndex = header.lastIndex
        self.term = header.term
        self.metadata = header.metadata
        self.uncompressedSize = header.uncompressedSize
        self.fileSize = fileSize
    }

    /// Orders snapshots as their names do: by last index, then term.
    func isNewer(than other: SnapshotDescriptor?) -> Bool {
        guard let other else { return true }
        return (lastIndex, term) > (other.lastIndex, other.term)
    }
}

/// A snapshot that is durable under its final name: the file and the directory entry are
/// synced. Only the store creates one: when a write or a receive completes, and for the
/// snapshot in force when it opens (`SnapshotStore.latest`).
///
/// Pass it to `SnapshotStore.completeInstall(_:log:)`, which records it in the log (truncates
/// the log's prefix through `lastIndex`) and only then deletes older snapshots. No other
/// call deletes snapshots, so the previous one stays until the new one is durable and
/// recorded.
public struct DurableSnapshot: Sendable, Hashable {
    /// The durable snapshot.
    public let descriptor: SnapshotDescriptor

    /// The index of the last log entry the snapshot includes.
    public var lastIndex: UInt64 { descriptor.lastIndex }
    /// The term of that entry.
    public var term: UInt64 { descriptor.term }

    init(_ descriptor: SnapshotDescriptor) { self.descriptor = descriptor }
}
