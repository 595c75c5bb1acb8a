/// Counters of the work a log has done since it was opened.
public struct WALStatistics: Sendable, Hashable {
    /// Batches written, each with one vectored write.
    public var batches: UInt64 = 0
    /// `fdatasync` calls; one can make several pipelined batches durable.
    public var syncs: UInt64 = 0
    /// Entries made durable.
    public var entries: UInt64 = 0
    /// Bytes written to segment files, framing included.
    public var bytesWritten: UInt64 = 0
    /// Segments created (rollovers and truncations).
    public var segmentsCreated: UInt64 = 0
    /// Of those, segments whose files were prepared ahead, so the rollover only filled them in.
    public var preparedSegmentsUsed: UInt64 = 0
}
