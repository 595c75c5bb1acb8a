import ArgumentParser
import WAL

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check every segment and record of a log without changing anything.",
        discussion: """
            Exits 0 with a summary when the log is intact (a torn, uncommitted tail left by a \
            crash is reported but is not an error: opening the log drops it). Exits 1 naming \
            the file and byte offset of any corruption.
            """)

    @Argument(help: "The log directory.")
    var directory: String

    func run() throws {
        do {
            let clock = ContinuousClock()
            let started = clock.now
            let report = try WriteAheadLog.verify(directory: directory, fileSystem: PosixFileSystem())
            let elapsed = clock.now - started
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            print("segments:    \(report.segmentCount)")
            print("entries:     \(report.entryCount)")
            print("first index: \(report.firstIndex)")
            print("last index:  \(report.lastIndex)")
            print("bytes:       \(report.bytesScanned)")
            let rate = Double(report.bytesScanned) / max(seconds, 1e-9) / 1e9
            print("scanned in:  \((seconds * 1000).rounded() / 1000) s (\((rate * 100).rounded() / 100) GB/s)")
            if let state = report.hardState {
                print("hard state:  term \(state.term), vote \(state.vote), commit \(state.commit)")
            }
            if let torn = report.tornTail {
                print("torn tail:   \(torn.droppedBytes) bytes at \(torn.file):\(torn.offset) (\(torn.reason)); opening the log drops it")
            } else {
                print("torn tail:   none")
            }
            print("ok")
        } catch {
            printError("wal verify: \(error)")
            throw ExitCode(1)
        }
    }
}
