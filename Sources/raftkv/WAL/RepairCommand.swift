import ArgumentParser
import Foundation
import WAL

struct RepairCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repair",
        abstract: "Cut off a damaged last batch so that a log opens again.",
        discussion: """
            For a log that will not open because its last batch is damaged in a way a torn \
            write cannot explain. Prints the damage and exactly what a repair drops: the file, \
            the byte offset and count, and the indexes of the entries lost. Without --yes \
            nothing is changed. With --yes, the last segment is first copied into \
            DIRECTORY/repair-backup-<UTC time>/, then truncated at the end of its last intact \
            batch. The dropped entries may have been acknowledged: a node gets them back from \
            its peers.

            Damage anywhere else (an earlier batch, an earlier segment, a segment header, the \
            log's metadata) is refused: cutting the log there would drop later data silently.

            Exit status: 0 the log opens (as it was, or once repaired), 1 corruption that is \
            not (or not yet) repaired, 2 the log could not be read or changed (a missing \
            directory, a permission or I/O error, the log open elsewhere), 64 a usage error.
            """)

    @Argument(help: "The log directory.")
    var directory: String

    @Flag(help: "Make the repair. Without it, only print what it would do.")
    var yes = false

    func run() throws {
        let backup = yes ? directory + "/repair-backup-" + Self.timestamp() : nil
        let assessment: RepairAssessment
        do {
            assessment = try WriteAheadLog.repair(
                directory: directory, fileSystem: PosixFileSystem(), backupDirectory: backup)
        } catch {
            printError("wal repair: \(error)")
            throw ExitCode(error.isCorruption ? 1 : 2)
        }
        switch assessment {
        case .intact(let report):
            let torn = report.tornTail.map { " (opening it drops a torn tail of \($0.droppedBytes) bytes, which was never acknowledged)" } ?? ""
            print("the log is intact\(torn): nothing to repair")
        case .refused(let damage, let reason):
            printError("wal repair: \(damage)")
            printError("wal repair: refused: \(reason). Nothing was changed; restore the node from a peer or a backup.")
            throw ExitCode(1)
        case .repairable(let plan):
            print("damage:      \(plan.damage)")
            let lost = plan.lostIndexes.map { range in
                (plan.lostIndexesAreExact ? "" : "at least ") + "entries \(range.lowerBound)...\(range.upperBound)"
            } ?? "no entries (a batch holding only a hard state)"
            print(
                (yes ? "dropped:     " : "would drop:  ")
                    + "\(plan.droppedBytes) bytes of \(plan.file) from byte \(plan.offset) to its end: the last batch, \(lost)")
            guard let backup else {
                print("nothing was changed; run again with --yes to repair (a copy of the file is kept first)")
                throw ExitCode(1)
            }
            print("backup:      \(backup)/\(plan.file.split(separator: "/").last.map(String.init) ?? plan.file)")
            print("repaired")
        }
    }

    /// The current UTC time as `yyyyMMdd-HHmmss`, naming the backup directory.
    private static func timestamp() -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        return formatter.string(from: Date())
    }
}
