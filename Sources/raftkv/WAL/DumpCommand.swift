import ArgumentParser
import WAL

struct DumpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump",
        abstract: "Print one line per record: index, term, type, size (and file offset).",
        discussion: """
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
        do {
            try WriteAheadLog.forEachRecord(directory: directory, fileSystem: PosixFileSystem()) { record in
                guard record.kind != .entry || (from...to).contains(record.index) else { return }
                var line = "\(record.index)\t\(record.term)\t\(record.kind.rawValue)\t\(record.size)\t\(record.file):\(record.offset)"
                if let state = record.hardState {
                    line += "\tterm=\(state.term) vote=\(state.vote) commit=\(state.commit)"
                }
                print(line)
            }
        } catch {
            printError("wal dump: \(error)")
            throw ExitCode(error.isCorruption ? 1 : 2)
        }
    }
}
