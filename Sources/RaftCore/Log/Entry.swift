/// What an entry's payload means to the core.
public enum EntryKind: UInt8, Sendable, Hashable {
    /// Opaque application data (an empty payload is a leader's no-op).
    case normal = 0
    /// An encoded ``ConfChange``; the core decodes and applies it.
    case configChange = 1
}

/// One record of the replicated log.
public struct Entry: Sendable, Hashable {
    /// The term of the leader that created the entry.
    public var term: UInt64
    /// The entry's position in the log, starting at 1.
    public var index: UInt64
    /// How the core interprets ``data``.
    public var kind: EntryKind
    /// The payload: application bytes, or an encoded ``ConfChange``.
    public var data: [UInt8]

    /// Creates an entry.
    public init(term: UInt64, index: UInt64, kind: EntryKind = .normal, data: [UInt8] = []) {
        self.term = term
        self.index = index
        self.kind = kind
        self.data = data
    }

    /// The size charged against byte budgets: the payload plus a fixed
    /// allowance for the header, so empty entries are not free.
    public var byteSize: Int { data.count + 24 }
}
