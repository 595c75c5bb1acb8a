import RaftCore
import WAL

/// How a Raft entry is stored as a WAL record, and the core's hard state as the WAL's.
///
/// The WAL stores opaque payloads; the runtime prefixes each with one byte, the entry's
/// `EntryKind`, so a configuration change is told apart from application data on replay.
enum EntryRecord {
    static func record(_ entry: Entry) -> LogEntry {
        var payload = [UInt8]()
        payload.reserveCapacity(entry.data.count + 1)
        payload.append(entry.kind.rawValue)
        payload.append(contentsOf: entry.data)
        return LogEntry(index: entry.index, term: entry.term, payload: payload)
    }

    /// The entry a record holds, or nil if its kind byte is unknown (damage the CRC missed,
    /// or a newer format).
    static func entry(_ record: LogEntry) -> Entry? {
        guard let kindByte = record.payload.first, let kind = EntryKind(rawValue: kindByte) else { return nil }
        return Entry(term: record.term, index: record.index, kind: kind, data: Array(record.payload.dropFirst()))
    }

    static func walHardState(_ state: RaftCore.HardState) -> WAL.HardState {
        WAL.HardState(term: state.term, vote: state.vote ?? 0, commit: state.commit)
    }

    static func coreHardState(_ state: WAL.HardState?) -> RaftCore.HardState {
        guard let state else { return RaftCore.HardState() }
        return RaftCore.HardState(term: state.term, vote: state.vote == 0 ? nil : state.vote, commit: state.commit)
    }
}
