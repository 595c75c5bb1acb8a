/// Describes a snapshot: the last log entry it covers and the configuration in
/// force at that entry.
///
/// The snapshot's bytes never pass through the core; the runtime stores and
/// streams them. A snapshot at index 0 stands for "no snapshot" and carries the
/// bootstrap configuration of a fresh cluster.
public struct SnapshotMetadata: Sendable, Hashable {
    /// The index of the last entry the snapshot covers.
    public var index: UInt64
    /// The term of that entry.
    public var term: UInt64
    /// The configuration in force once that entry is applied.
    public var configuration: Configuration

    /// Creates snapshot metadata.
    public init(index: UInt64, term: UInt64, configuration: Configuration) {
        self.index = index
        self.term = term
        self.configuration = configuration
    }
}
