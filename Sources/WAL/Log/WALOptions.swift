import Logging

/// Tuning and limits for a `WriteAheadLog`.
///
/// Opening a log refuses impossible values (a size or interval that is zero or negative, a
/// payload limit above what the format holds) with `WALError.invalidOptions`.
public struct WALOptions: Sendable {
    /// A segment is sealed and a new one started once it reaches this size. A single batch
    /// larger than this still goes whole into one segment.
    public var segmentSize: Int = 64 << 20
    /// The largest payload a single entry may have; appends of larger payloads are refused
    /// before anything is written. At most `WALOptions.largestPayloadSize`, what a record
    /// frame can hold. It limits only what is written: readers accept every record the
    /// format holds, so lowering it never makes records already written unreadable.
    public var maxPayloadSize: Int = 16 << 20
    /// At most this many bytes of appends go into one batch (one vectored write).
    public var maxBatchBytes: Int = 8 << 20
    /// Appends beyond this many queued bytes wait for earlier batches to become durable, so
    /// memory cannot grow without bound however fast callers produce.
    public var maxBytesInFlight: Int = 64 << 20
    /// Every this-many-th entry's file offset is kept in memory to find entries quickly.
    /// Must be positive.
    public var indexInterval: Int = 32
    /// The buffer size for sequential scans (recovery and reads).
    public var readBufferSize: Int = 1 << 20
    /// Which threads write and sync.
    public var execution: WALExecution = .backgroundThreads
    /// Where the log reports recovery and failures.
    public var logger: Logger = Logger(label: "swift-raft.wal")
    /// How the writer and sync threads are started (tests make it fail).
    package var threadStarter = ThreadStarter.system

    /// Creates the default options.
    public init() {}
}

/// Which threads do a `WriteAheadLog`'s writing and syncing.
public enum WALExecution: Sendable, Hashable {
    /// A writer thread and a sync thread: appends from many callers are coalesced into one
    /// write and one fdatasync, and the next batch is written while the previous one syncs.
    /// The choice for servers.
    case backgroundThreads
    /// The calling thread: each call writes, syncs and completes before it returns (an
    /// append made from a completion runs before the outer call returns). No threads are
    /// started, so a single-threaded caller sees the same file-system operations, in the
    /// same order, every run: the choice for deterministic simulation. Callers must not
    /// append from several threads at once.
    case callingThread
}
