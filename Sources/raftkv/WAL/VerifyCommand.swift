import ArgumentParser
import WAL

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check every segment and record of a log, and every snapshot, without changing anything.",
        discussion: """
            Exits 0 with a summary when the log and the snapshots are intact (a torn, \
            uncommitted tail left by a crash is reported but is not an error: opening the log \
            drops it). Exits 1 naming the file and byte offset of any corruption in the log, \
            the file and block of any corrupt snapshot, or a log that starts after the newest \
            valid snapshot ends.

            Exit status: 0 intact, 1 corruption found, 2 the log could not be read (a \
            missing directory, a permission or I/O error), 64 a usage error.
            """)

    @Argument(help: "The log directory.")
    var directory: String

    @Option(help: "The snapshot directory (default: DIRECTORY/snapshots). Snapshot files in DIRECTORY itself are checked too.")
    var snapshots: String?

    func run() throws {
        var failed = false
        var logFirstIndex: UInt64?
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
            logFirstIndex = report.firstIndex
        } catch {
            printError("wal verify: \(error)")
            // The snapshots would only repeat an error about the same path.
            guard error.isCorruption else { throw ExitCode(2) }
            failed = true
        }
        if !verifySnapshots(logFirstIndex: logFirstIndex) { failed = true }
        if failed { throw ExitCode(1) }
        print("ok")
    }

    /// Checks every snapshot file, block by block. Returns false if any is corrupt, or if
    /// there are snapshots and the newest valid one does not reach the log's first index.
    private func verifySnapshots(logFirstIndex: UInt64?) -> Bool {
        var intact = true
        var newest: SnapshotDescriptor?
        var sawSnapshot = false
        let other = snapshots ?? directory + "/snapshots"
        for folder in other == directory ? [directory] : [directory, other] {
            let results: [(file: String, result: Result<SnapshotDescriptor, SnapshotError>)]
            do {
                results = try SnapshotStore.verifyAll(directory: folder, fileSystem: PosixFileSystem())
            } catch {
                if case .ioFailure(let failure) = error, failure.code == .notFound { continue }
                printError("wal verify: snapshots in \(folder): \(error)")
                intact = false
                continue
            }
            for (file, result) in results {
                sawSnapshot = true
                switch result {
                case .success(let snapshot):
                    print(
                        "snapshot:    \(file): index \(snapshot.lastIndex), term \(snapshot.term), "
                            + "\(snapshot.fileSize) bytes (\(snapshot.uncompressedSize) uncompressed)")
                    if newest.map({ (snapshot.lastIndex, snapshot.term) > ($0.lastIndex, $0.term) }) ?? true {
                        newest = snapshot
                    }
                case .failure(let error):
                    printError("wal verify: corrupt snapshot: \(error)")
                    intact = false
                }
            }
        }
        // A log used without snapshots may be truncated freely; once snapshots are in use,
        // the newest valid one must reach the log, or opening the node would fail.
        if sawSnapshot, let logFirstIndex, logFirstIndex > 0, logFirstIndex - 1 > (newest?.lastIndex ?? 0) {
            printError(
                "wal verify: the log starts at index \(logFirstIndex) but the newest valid snapshot ends at "
                    + "\(newest.map { "index \($0.lastIndex)" } ?? "none (there is no valid snapshot)")")
            intact = false
        }
        return intact
    }
}
