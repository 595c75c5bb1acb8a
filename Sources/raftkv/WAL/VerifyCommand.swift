import ArgumentParser
import WAL

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check every segment and record of a log, and every snapshot, without changing anything.",
        discussion: """
            DIRECTORY is a node directory (holding log/ and snapshots/, as `raftkv serve` lays \
            it out), a node's log/ directory (its snapshots are then those in ../snapshots), \
            or a log directory on its own.

            Exits 0 with a summary when the log and the snapshots are intact (a torn, \
            uncommitted tail left by a crash is reported but is not an error: opening the log \
            drops it). Exits 1 naming the file and byte offset of any corruption in the log, \
            the file and block of any corrupt snapshot, or a log that starts after the newest \
            valid snapshot ends (for a node: it cannot start).

            Exit status: 0 intact, 1 corruption found, 2 the log could not be read (a \
            missing directory or --snapshots path, a permission or I/O error), 64 a usage error.
            """)

    @Argument(help: "A node directory, a node's log directory, or a log directory.")
    var directory: String

    @Option(help: "The snapshot directory (default: the node's snapshots, or DIRECTORY/snapshots). For a log directory, snapshot files in it are checked too.")
    var snapshots: String?

    func run() throws {
        let target: VerifyTarget
        do {
            target = try VerifyTarget(path: directory, snapshots: snapshots, fileSystem: PosixFileSystem())
        } catch {
            printError("wal verify: --snapshots \(snapshots ?? ""): \(error)")
            throw ExitCode(2)
        }
        if let node = target.node { print("node:        \(node)") }
        var failed = false
        var logFirstIndex: UInt64?
        do {
            let clock = ContinuousClock()
            let started = clock.now
            let report = try WriteAheadLog.verify(directory: target.log, fileSystem: PosixFileSystem())
            let elapsed = clock.now - started
            let seconds = elapsed.inSeconds
            if target.node != nil { print("log:         \(target.log)") }
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
        if !verifySnapshots(target, logFirstIndex: logFirstIndex) { failed = true }
        if failed { throw ExitCode(1) }
        print("ok")
    }

    /// Checks every snapshot file, block by block. Returns false if any is corrupt, or if the
    /// newest valid one does not reach the log's first index: a node's always (it could not
    /// start), a lone log's only once snapshots are in use (it may be truncated freely).
    private func verifySnapshots(_ target: VerifyTarget, logFirstIndex: UInt64?) -> Bool {
        var intact = true
        var newest: SnapshotDescriptor?
        var sawSnapshot = false
        for folder in target.snapshotFolders {
            let results: [(file: String, result: Result<SnapshotDescriptor, SnapshotError>)]
            do {
                results = try SnapshotStore.verifyAll(directory: folder, fileSystem: PosixFileSystem())
            } catch {
                // Only a default location may be absent: a node that has no snapshot yet.
                if case .ioFailure(let failure) = error, failure.code == .notFound, snapshots == nil { continue }
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
        if !sawSnapshot { print("snapshots:   none (in \(target.snapshotFolders.joined(separator: ", ")))") }
        guard sawSnapshot || target.node != nil, let logFirstIndex, logFirstIndex > 0 else { return intact }
        // As opening the node's snapshot store checks: the log must continue the newest
        // valid snapshot, or the state between them is lost.
        if logFirstIndex - 1 > (newest?.lastIndex ?? 0) {
            let reached = newest.map { "the newest valid snapshot ends at index \($0.lastIndex)" }
                ?? "there is no valid snapshot"
            let consequence = target.node.map { "the node \($0) cannot start: " } ?? ""
            printError("wal verify: \(consequence)the log starts at index \(logFirstIndex) but \(reached)")
            intact = false
        } else if !intact, target.node != nil, let newest {
            print("the node can still start: the log continues its newest valid snapshot, \(newest.fileName)")
        }
        return intact
    }
}
