/// What opening (or verifying) a log found.
public struct RecoveryReport: Sendable, Hashable {
    /// An uncommitted batch at the end of the last segment, left by a crash before its
    /// fdatasync completed. Such a batch was never acknowledged, so dropping it loses nothing.
    public struct TornTail: Sendable, Hashable {
        /// The segment file.
        public var file: String
        /// Where the dropped bytes began.
        public var offset: Int64
        /// How many bytes were dropped (or, when verifying, would be).
        public var droppedBytes: Int64
        /// Why the bytes were not a committed batch.
        public var reason: String
    }

    /// Segment files in use.
    public var segmentCount = 0
    /// Live entries, `lastIndex - firstIndex + 1`.
    public var entryCount: UInt64 = 0
    /// The first readable index.
    public var firstIndex: UInt64 = 1
    /// The last durable index (`firstIndex - 1` when the log is empty).
    public var lastIndex: UInt64 = 0
    /// Total bytes of the segment files scanned.
    public var bytesScanned: Int64 = 0
    /// The recovered hard state, if one was ever saved.
    public var hardState: HardState?
    /// The torn tail found at the end of the log, if any.
    public var tornTail: TornTail?
    /// Files recovery removed: temporaries, and segments made void by a truncation.
    public var removedFiles: [String] = []
}
