import ArgumentParser
import WAL

struct DumpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump",
        abstract: "Print one line per record: index, term, type, size (and file offset).")

    @Argument(help: "The log directory.")
    var directory: String

    @Option(help: "The first index to show.")
    var from: UInt64 = 0

    @Option(help: "The last index to show.")
    var to: UInt64 = .max

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
            throw ExitCode(1)
        }
    }
}
