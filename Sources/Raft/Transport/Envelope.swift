import RaftCore
import WAL

/// What one node sends another: a Raft message, or a piece of a snapshot transfer.
///
/// Snapshots travel beside the core's messages because their bytes never pass through the
/// core: the leader's runtime ships the compressed snapshot file in chunks, and the follower's
/// runtime hands the core the InstallSnapshot message only once the whole file is durable.
public enum Envelope: Sendable, Hashable {
    /// A message of the Raft protocol.
    case raft(Message)
    /// A chunk of a snapshot file, leader to follower.
    case snapshotChunk(SnapshotChunkMessage)
    /// A follower's reply to a chunk, follower to leader.
    case snapshotAck(SnapshotAck)

    /// The sender.
    public var from: NodeID {
        switch self {
        case .raft(let message): message.from
        case .snapshotChunk(let chunk): chunk.message.from
        case .snapshotAck(let ack): ack.from
        }
    }

    /// The recipient.
    public var to: NodeID {
        switch self {
        case .raft(let message): message.to
        case .snapshotChunk(let chunk): chunk.message.to
        case .snapshotAck(let ack): ack.to
        }
    }
}

/// A chunk of a snapshot file at a byte offset.
public struct SnapshotChunkMessage: Sendable, Hashable {
    /// The InstallSnapshot message the follower's core receives once the file is complete;
    /// its snapshot metadata describes the file.
    public var message: Message
    /// The file's size, so the follower knows when it has everything.
    public var fileSize: Int64
    /// The bytes at `offset`, with their CRC32C.
    public var chunk: SnapshotChunk

    /// Creates a chunk message.
    public init(message: Message, fileSize: Int64, chunk: SnapshotChunk) {
        self.message = message
        self.fileSize = fileSize
        self.chunk = chunk
    }
}

/// A follower's answer to a snapshot chunk.
public struct SnapshotAck: Sendable, Hashable {
    /// The follower.
    public var from: NodeID
    /// The leader.
    public var to: NodeID
    /// The leader's term the chunk carried.
    public var term: UInt64
    /// The snapshot's last index.
    public var snapshotIndex: UInt64
    /// The offset the follower wants next; the file's size once it has all of it.
    public var nextOffset: Int64
    /// Whether the follower refuses this snapshot (it holds a newer one, or the file failed
    /// its checks); the leader then gives up on this transfer.
    public var rejected: Bool

    /// Creates an acknowledgement.
    public init(from: NodeID, to: NodeID, term: UInt64, snapshotIndex: UInt64, nextOffset: Int64, rejected: Bool) {
        self.from = from
        self.to = to
        self.term = term
        self.snapshotIndex = snapshotIndex
        self.nextOffset = nextOffset
        self.rejected = rejected
    }
}
