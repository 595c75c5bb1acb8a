/// The node's view of the whole log: the durable part read through
/// ``LogStorage`` plus the ``UnstableLog`` waiting to be persisted, with the
/// commit and apply cursors.
struct RaftLog<Storage: LogStorage> {
    var storage: Storage
    var unstable: UnstableLog
    /// The highest index known to be committed.
    private(set) var committed: UInt64
    /// The highest index handed to the application in a `Ready`.
    var applying: UInt64
    /// The highest index the application reported applied.
    var applied: UInt64
    /// Broken internal invariants seen (a commit beyond the log); zero unless the core
    /// has a bug. Counted rather than trapped on, so release builds report them.
    var violations: UInt64 = 0

    init(storage: Storage, committed: UInt64, applied: UInt64) {
        let first = storage.firstIndex
        unstable = UnstableLog(offset: storage.lastIndex + 1)
        // A stored commit beyond the stored log cannot be trusted; the floor
        // is the snapshot, which is committed by definition.
        // An applied entry was committed, even if that commit index was lost.
        self.committed = min(max(committed, applied, first - 1), storage.lastIndex)
        self.applied = min(max(applied, first - 1), self.committed)
        applying = self.applied
        self.storage = storage
    }

    var firstIndex: UInt64 { unstable.firstIndexIfKnown ?? storage.firstIndex }

    var lastIndex: UInt64 { unstable.lastIndexIfKnown ?? storage.lastIndex }

    /// The last index that is durable and part of the current log: entries
    /// after it are still being written (or replace stored ones).
    var lastPersistedIndex: UInt64 {
        // While a received snapshot is unpersisted, nothing of the new log is.
        guard unstable.snapshot == nil else { return 0 }
        return min(storage.lastIndex, unstable.offset - 1)
    }

    /// The term at `index`, for `firstIndex - 1...lastIndex`.
    func term(at index: UInt64) -> UInt64? {
        guard index + 1 >= firstIndex, index <= lastIndex else { return nil }
        if let term = unstable.term(at: index) { return term }
        return storage.term(at: index)
    }

    var lastTerm: UInt64 { term(at: lastIndex) ?? 0 }

    func matchTerm(_ index: UInt64, _ term: UInt64) -> Bool {
        self.term(at: index) == term
    }

    /// Raft §5.4.1: a candidate's log is at least as up to date as ours when
    /// its last term is higher, or equal with an index at least as high.
    func isUpToDate(lastIndex candidateIndex: UInt64, lastTerm candidateTerm: UInt64) -> Bool {
        candidateTerm > lastTerm || (candidateTerm == lastTerm && candidateIndex >= lastIndex)
    }

    /// The first index among `entries` whose term differs from ours (or that
    /// we do not have), or `nil` when we already hold them all.
    func firstConflict(in entries: [Entry]) -> UInt64? {
        entries.first { !matchTerm($0.index, $0.term) }?.index
    }

    /// For a rejected append: the largest index `<= index` whose term is
    /// `<= term`, so the leader can skip a whole divergent term per round trip.
    func lastIndex(atOrBefore index: UInt64, withTermAtMost term: UInt64) -> (index: UInt64, term: UInt64) {
        var candidate = index
        while true {
            guard let found = self.term(at: candidate) else { return (candidate, 0) }
            if found <= term || candidate == 0 { return (candidate, found) }
            candidate -= 1
        }
    }

    /// Appends leader entries after a successful consistency check. Matching
    /// entries are kept: only a real conflict truncates (a stale, shorter
    /// append must not cut off entries we already hold). Returns `false` when
    /// the append would overwrite a committed entry.
    mutating func append(matching entries: [Entry]) -> Bool {
        guard let conflict = firstConflict(in: entries) else { return true }
        guard conflict > committed, let first = entries.first else { return false }
        unstable.truncateAndAppend(entries[Int(conflict - first.index)...])
        return true
    }

    /// Appends entries created by this node as leader.
    mutating func appendAsLeader(_ entries: [Entry]) {
        unstable.truncateAndAppend(entries)
    }

    mutating func commit(to index: UInt64) {
        guard index > committed else { return }
        guard index <= lastIndex else {
            violations += 1
            assertionFailure("commit \(index) beyond the last index \(lastIndex)")
            committed = lastIndex
            return
        }
        committed = index
    }

    /// The entries `from..<to`, bounded by `maxBytes` (at least one), or `nil`
    /// when some of them were compacted away.
    func entries(from lower: UInt64, to upper: UInt64, maxBytes: Int) -> [Entry]? {
        guard lower >= firstIndex else { return nil }
        let upper = min(upper, lastIndex + 1)
        guard lower < upper else { return [] }
        var result: [Entry] = []
        if lower < unstable.offset {
            let storedUpper = min(upper, unstable.offset)
            result = storage.entries(in: lower..<storedUpper, maxBytes: maxBytes)
            guard UInt64(result.count) == storedUpper - lower else { return result.isEmpty ? nil : result }
        }
        if upper > unstable.offset {
            var bytes = result.reduce(0) { $0 + $1.byteSize }
            for entry in unstable.slice(max(lower, unstable.offset)..<upper) {
                bytes += entry.byteSize
                if !result.isEmpty && bytes > maxBytes { break }
                result.append(entry)
            }
        }
        return result
    }

    /// The committed, durable entries not yet handed to the application.
    func nextCommittedEntries(maxBytes: Int) -> [Entry] {
        guard unstable.snapshot == nil else { return [] }
        let upper = min(committed, lastPersistedIndex)
        guard applying < upper else { return [] }
        return entries(from: applying + 1, to: upper + 1, maxBytes: maxBytes) ?? []
    }

    var snapshot: SnapshotMetadata { unstable.snapshot ?? storage.snapshot }

    /// Replaces the log with `snapshot`.
    mutating func restore(_ snapshot: SnapshotMetadata) {
        committed = snapshot.index
        unstable.restore(snapshot)
        applying = max(applying, snapshot.index)
    }
}
extension RaftLog: Sendable where Storage: Sendable {}
