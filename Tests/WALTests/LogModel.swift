import WAL

/// The simplest possible log, to compare the real one against.
struct LogModel: Equatable, CustomStringConvertible {
    var firstIndex: UInt64 = 1
    var entries: [LogEntry] = []
    var hardState: HardState?

    var lastIndex: UInt64 { firstIndex + UInt64(entries.count) - 1 }

    mutating func append(_ new: [LogEntry], hardState state: HardState?) {
        entries += new
        if let state { hardState = state }
    }

    mutating func truncateSuffix(after index: UInt64) {
        guard index < lastIndex else { return }
        entries.removeSubrange(Int(index + 1 - firstIndex)...)
    }

    mutating func truncatePrefix(through index: UInt64) {
        guard index >= firstIndex else { return }
        if index >= lastIndex {
            entries = []
        } else {
            entries.removeFirst(Int(index + 1 - firstIndex))
        }
        firstIndex = index + 1
    }

    /// Reads the real log's state in the same terms.
    init<FS: FileSystem>(of log: WriteAheadLog<FS>) throws {
        firstIndex = log.firstIndex
        entries = try allEntries(log)
        hardState = log.hardState
    }

    init() {}

    var description: String {
        "first \(firstIndex), last \(lastIndex), hard state \(hardState.map { "\($0)" } ?? "none")"
    }
}
