import ArgumentParser
import WAL

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct DumpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump",
        abstract: "Print one line per record: index, term, type, size (and file offset).",
        discussion: """
            With --from/--to, an entry is shown when its index is in the range; a hard-state \
            record and a commit marker are shown with their batch: when the batch holds an \
            entry in the range or, for a batch without entries, when the index it follows \
            (the commit marker's index) is in the range.

            On a damaged log, every intact record before the damage is printed, then the error.

            Exit status: 0 every record intact, 1 corruption found, 2 the log could not be \
            read (a missing directory, a permission or I/O error), 64 a usage error.
            """)

    @Argument(help: "The log directory.")
    var directory: String

    @Option(parsing: .unconditional, help: "The first index to show.")
    var from: UInt64 = 0

    @Option(parsing: .unconditional, help: "The last index to show.")
    var to: UInt64 = .max

    func validate() throws {
        guard from <= to else { throw ValidationError("--from \(from) is after --to \(to)") }
    }

    func run() throws {
        var filter = BatchRangeFilter(range: from...to)
        do {
            try WriteAheadLog.forEachRecord(directory: directory, fileSystem: PosixFileSystem()) { record in
                filter.take(record, show: Self.show)
            }
        } catch {
            filter.finish(show: Self.show)
            // The records before the damage go out before the error, even through one pipe.
            fflush(nil)
            printError("wal dump: \(error)")
            throw ExitCode(error.isCorruption ? 1 : 2)
        }
    }

    private static func show(_ record: RecordSummary) {
        var line = "\(record.index)\t\(record.term)\t\(record.kind.rawValue)\t\(record.size)\t\(record.file):\(record.offset)"
        if let state = record.hardState {
            line += "\tterm=\(state.term) vote=\(state.vote) commit=\(state.commit)"
        }
        print(line)
    }
}
