import DequeModule
import RaftCore
import WAL

/// The core's view of the durable log, backed by the write-ahead log.
///
/// The terms of every stored entry are kept in memory (8 bytes an entry, and snapshots keep
/// the log short), so the core's consistency checks never touch the disk. The newest entries
/// are also cached, up to `maxCachedBytes`, because that is what replication to followers
/// that keep up reads; older entries are read back from the WAL, checked against their CRC.
///
/// `LogStorage` reads cannot throw, so a failed read is recorded in `readFailure` and the
/// read returns what it has; the runtime checks for it after every step and stops the node.
struct WALLogStorage<FS: FileSystem>: LogStorage {
    let wal: WriteAheadLog<FS>
    private(set) var snapshot: SnapshotMetadata
    /// `terms[i]` is the term of the entry at `firstIndex + i`.
    private var terms: [UInt64] = []
    /// The newest stored entries, contiguous up to `lastIndex`.
    private var cache: Deque<Entry> = []
    private var cachedBytes = 0
    private let maxCachedBytes: Int
    let readFailure = ReadFailure()

    /// Loads the terms of the entries after `snapshot` from `wal`, caching the newest.
    init(wal: WriteAheadLog<FS>, snapshot: SnapshotMetadata, maxCachedBytes: Int) throws(RaftNodeError) {
        self.wal = wal
        self.snapshot = snapshot
        self.maxCachedBytes = maxCachedBytes
        let first = max(wal.firstIndex, snapshot.index + 1)
        guard wal.lastIndex >= first else { return }
        guard first == snapshot.index + 1 else {
            throw .logGap(snapshotIndex: snapshot.index, logFirstIndex: wal.firstIndex)
        }
        let reader: LogReader<FS>
        do { reader = try wal.makeReader(from: first, through: wal.lastIndex) } catch { throw .storage(error) }
        while true {
            let next: LogEntry?
            do { next = try reader.next() } catch { throw .storage(error) }
            guard let record = next else { break }
            guard let entry = EntryRecord.entry(record) else { throw .undecodableEntry(index: record.index) }
            terms.append(entry.term)
            cacheAppend(entry)
        }
    }

    var firstIndex: UInt64 { snapshot.index + 1 }

    var lastIndex: UInt64 { snapshot.index + UInt64(terms.count) }

    func term(at index: UInt64) -> UInt64? {
        if index == snapshot.index { return snapshot.term }
        guard index > snapshot.index, index <= lastIndex else { return nil }
        return terms[Int(index - firstIndex)]
    }

    func entries(in range: Range<UInt64>, maxBytes: Int) -> [Entry] {
        guard !range.isEmpty, range.lowerBound >= firstIndex, range.upperBound <= lastIndex + 1 else { return [] }
        let cacheFirst = cache.first?.index ?? lastIndex + 1
        var result: [Entry] = []
        var bytes = 0
        if range.lowerBound < cacheFirst {
            let upper = min(range.upperBound, cacheFirst)
            do throws(WALError) {
                for record in try wal.entries(in: range.lowerBound...(upper - 1), maxBytes: maxBytes) {
                    guard let entry = EntryRecord.entry(record) else {
                        readFailure.record(.undecodableEntry(index: record.index))
                        return result
                    }
                    bytes += entry.byteSize
                    result.append(entry)
                }
            } catch {
                readFailure.record(.storage(error))
                return result
            }
            guard UInt64(result.count) == upper - range.lowerBound else { return result }
        }
        let start = max(range.lowerBound, cacheFirst)
        guard start < range.upperBound else { return result }
        for entry in cache[Int(start - cacheFirst)..<Int(range.upperBound - cacheFirst)] {
            bytes += entry.byteSize
            if !result.isEmpty && bytes > maxBytes { break }
            result.append(entry)
        }
        return result
    }

    /// Records entries made durable: any stored entry at or after the first one's index is
    /// replaced, as conflict resolution requires.
    mutating func append(_ entries: [Entry]) {
        let fresh = entries.drop { $0.index <= snapshot.index }
        guard let first = fresh.first else { return }
        precondition(first.index <= lastIndex + 1, "a gap in the stored log")
        terms.removeLast(Int(lastIndex + 1 - first.index))
        while let last = cache.last, last.index >= first.index {
            cachedBytes -= last.byteSize
            cache.removeLast()
        }
        for entry in fresh {
            terms.append(entry.term)
            cacheAppend(entry)
        }
    }

    /// Replaces the whole log with a snapshot received from the leader.
    mutating func install(_ snapshot: SnapshotMetadata) {
        self.snapshot = snapshot
        terms = []
        cache = []
        cachedBytes = 0
    }

    /// Drops the entries through `index`, which a local snapshot now covers.
    mutating func compact(through index: UInt64, configuration: Configuration) {
        guard index > snapshot.index, index <= lastIndex, let term = term(at: index) else { return }
        terms.removeFirst(Int(index - snapshot.index))
        while let first = cache.first, first.index <= index {
            cachedBytes -= first.byteSize
            cache.removeFirst()
        }
        snapshot = SnapshotMetadata(index: index, term: term, configuration: configuration)
    }

    private mutating func cacheAppend(_ entry: Entry) {
        cache.append(entry)
        cachedBytes += entry.byteSize
        while cachedBytes > maxCachedBytes, cache.count > 1, let first = cache.first {
            cachedBytes -= first.byteSize
            cache.removeFirst()
        }
    }
}

/// The first failed read of the durable log, which stops the node.
final class ReadFailure {
    private(set) var error: RaftNodeError?

    func record(_ error: RaftNodeError) {
        if self.error == nil { self.error = error }
    }
}
