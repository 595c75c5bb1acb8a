import Logging
import Synchronization

/// What opening a `SnapshotStore` found.
public struct SnapshotRecoveryReport: Sendable, Hashable {
    /// The snapshot in force: the newest valid one, or nil if there is none.
    public var inForce: SnapshotDescriptor?
    /// Newer snapshots that were found corrupt and set aside (renamed with `.corrupt`),
    /// each with what was wrong. Non-empty only if an older snapshot plus the log still
    /// cover the state they held.
    public var corrupt: [SnapshotError] = []
    /// Temporary files of unfinished writes and receives that were removed.
    public var removedTemporaryFiles: [String] = []
}

/// A directory of snapshot files: writing, reading, shipping, receiving, installing, and
/// recovery after a crash.
///
/// **Install order.** A snapshot is written (or received) into a temporary file, which is
/// synced, renamed to `snapshot-<last index>-<term>.snap`, and the directory synced; only then
/// does `write` (or `SnapshotReceiver.finish`) return a `DurableSnapshot`. Passing that to
/// `completeInstall(_:log:)` records it in the log by truncating the log's prefix through
/// its last index, and only after that deletes snapshots beyond `retainedCount`. Nothing
/// else deletes a snapshot, so the previous one stays until the new one is durable and
/// recorded, and a crash at any step leaves the old or the new snapshot in force, with a
/// log that reaches it.
///
/// **Recovery.** Opening the store removes temporary files, then checks the newest
/// snapshot end to end. If it is damaged, older ones are tried; an older valid one is used
/// only if the log still reaches it (`logFirstIndex <= lastIndex + 1`), and the damaged
/// newer files are renamed aside and reported. Otherwise opening fails with
/// `SnapshotError.noUsableSnapshot`: the node must never start from a state older than
/// what it acknowledged. A snapshot written by a newer format version is not damage: it
/// stops the open with `SnapshotError.unsupportedVersion`.
///
/// Use one store per directory, and one write or receive at a time per snapshot identity.
public final class SnapshotStore<FS: FileSystem>: Sendable {
    /// The directory holding the snapshot files.
    public let directory: String
    /// The options the store was opened with.
    public let options: SnapshotOptions
    /// What recovery found on open.
    public let recoveryReport: SnapshotRecoveryReport
    let fileSystem: FS
    private let latestSnapshot: Mutex<SnapshotDescriptor?>

    /// Opens the store in `directory`, creating it if needed, and recovers it.
    ///
    /// - Parameter logFirstIndex: the first index of the log that goes with these snapshots
    ///   (`WriteAheadLog.firstIndex`; 1 for a log that was never truncated). The snapshot in
    ///   force must reach it, or the state between them would be lost.
    public init(
        directory: String, fileSystem: FS, logFirstIndex: UInt64, options: SnapshotOptions = SnapshotOptions()
    ) throws(SnapshotError) {
        try options.validate()
        self.directory = directory
        self.fileSystem = fileSystem
        self.options = options
        do { try fileSystem.createDirectory(directory) } catch { throw SnapshotError(error) }
        let report = try Self.recover(
            directory: directory, fileSystem: fileSystem, logFirstIndex: logFirstIndex, logger: options.logger)
        self.recoveryReport = report
        self.latestSnapshot = Mutex(report.inForce)
    }

    /// The newest durable snapshot: the one in force.
    ///
    /// After opening, pass it to `completeInstall(_:log:)` to finish an install that a crash
    /// interrupted between the snapshot becoming durable and its recording in the log;
    /// doing so again for a completed install changes nothing.
    public var latest: DurableSnapshot? { latestSnapshot.withLock { $0 }.map(DurableSnapshot.init) }

    func path(_ name: String) -> String { directory + "/" + name }

    // MARK: Writing

    /// Writes a snapshot whose bytes `body` produces through the writer it is given, and
    /// makes it durable. Then pass the result to `completeInstall(_:log:)`.
    ///
    /// Runs on the caller's actor, as `body` does; blocks are compressed on other threads.
    ///
    /// Throws `SnapshotError`, or whatever `body` throws; either way the temporary file is
    /// removed and the snapshot in force is unchanged.
    nonisolated(nonsending) public func write(
        lastIndex: UInt64, term: UInt64, metadata: [UInt8] = [],
        body: (SnapshotWriter<FS>) async throws -> Void
    ) async throws -> DurableSnapshot {
        try checkInstallable(lastIndex: lastIndex, term: term)
        guard metadata.count <= options.maxMetadataSize else {
            throw SnapshotError.invalidArgument(
                "metadata of \(metadata.count) bytes exceeds the limit of \(options.maxMetadataSize)")
        }
        let temporary = path(SnapshotName.temporary(lastIndex: lastIndex, term: term, identifier: fileSystem.randomIdentifier()))
        let file: FS.FileHandle
        do { file = try fileSystem.openFile(temporary, mode: .createNew) } catch { throw SnapshotError(error) }
        let writer = SnapshotWriter(
            fileSystem: fileSystem, file: file, path: temporary, lastIndex: lastIndex, term: term, metadata: metadata,
            options: options)
        let written: (header: SnapshotHeader, fileSize: Int64)
        do {
            try await body(writer)
            written = try await writer.finish()
        } catch {
            await writer.abort()
            throw error
        }
        return try install(temporary: temporary, header: written.header, fileSize: written.fileSize)
    }

    /// Writes a snapshot whose bytes come from `contents`, chunk by chunk, and makes it
    /// durable. Then pass the result to `completeInstall(_:log:)`.
    nonisolated(nonsending) public func write<Contents: AsyncSequence>(
        lastIndex: UInt64, term: UInt64, metadata: [UInt8] = [], contents: Contents
    ) async throws -> DurableSnapshot where Contents.Element == [UInt8] {
        try await write(lastIndex: lastIndex, term: term, metadata: metadata) { writer in
            for try await chunk in contents { try await writer.write(chunk) }
        }
    }

    private func checkInstallable(lastIndex: UInt64, term: UInt64) throws(SnapshotError) {
        // The log continues at `lastIndex + 1`, so the largest index cannot be a snapshot's.
        guard lastIndex < UInt64.max else { throw .invalidArgument("last index \(lastIndex) is out of range") }
        if let latest = latestSnapshot.withLock({ $0 }), (lastIndex, term) < (latest.lastIndex, latest.term) {
            throw .staleSnapshot(lastIndex: lastIndex, term: term, inForceIndex: latest.lastIndex)
        }
    }

    /// Renames a complete, synced temporary file to its final name and syncs the directory.
    func install(temporary: String, header: SnapshotHeader, fileSize: Int64) throws(SnapshotError) -> DurableSnapshot {
        let name = SnapshotName.make(lastIndex: header.lastIndex, term: header.term)
        do {
            try fileSystem.rename(temporary, to: path(name))
        } catch {
            // Best effort: if removal fails, the next open of the store removes it.
            try? fileSystem.removeFile(temporary)
            throw SnapshotError(error)
        }
        do { try fileSystem.synchronizeDirectory(directory) } catch { throw SnapshotError(error) }
        let descriptor = SnapshotDescriptor(fileName: name, header: header, fileSize: fileSize)
        latestSnapshot.withLock { latest in
            if descriptor.isNewer(than: latest) || descriptor.fileName == latest?.fileName { latest = descriptor }
        }
        options.logger.info(
            "snapshot durable", metadata: ["file": "\(name)", "index": "\(header.lastIndex)", "bytes": "\(fileSize)"])
        return DurableSnapshot(descriptor)
    }

    // MARK: Installing

    /// Records a durable snapshot in `log` by truncating the log's prefix through the
    /// snapshot's last index, and only then deletes older snapshots beyond `retainedCount`.
    nonisolated(nonsending) public func completeInstall<LogFS: FileSystem>(
        _ snapshot: DurableSnapshot, log: WriteAheadLog<LogFS>
    ) async throws(SnapshotError) {
        do { try await log.truncatePrefix(through: snapshot.lastIndex) } catch { throw .logFailure(error) }
        try removeSnapshots(olderThan: snapshot)
    }

    /// Records a durable snapshot with `record` (for callers that keep their log
    /// elsewhere), and only once it returns deletes older snapshots beyond `retainedCount`.
    nonisolated(nonsending) public func completeInstall(
        _ snapshot: DurableSnapshot, recordingWith record: () async throws -> Void
    ) async throws {
        try await record()
        try removeSnapshots(olderThan: snapshot)
    }

    /// Deletes the oldest snapshots, keeping `retainedCount` of them and never `snapshot`
    /// or a newer one; oldest first, then syncs the directory.
    private func removeSnapshots(olderThan snapshot: DurableSnapshot) throws(SnapshotError) {
        let names: [String]
        do { names = try fileSystem.contentsOfDirectory(directory) } catch { throw SnapshotError(error) }
        let snapshots = names.compactMap { name in SnapshotName.parse(name).map { (name, $0.lastIndex, $0.term) } }
            .sorted { ($0.1, $0.2) > ($1.1, $1.2) }
        let doomed = snapshots.dropFirst(options.retainedCount)
            .filter { ($0.1, $0.2) < (snapshot.lastIndex, snapshot.term) }
        guard !doomed.isEmpty else { return }
        do {
            for (name, _, _) in doomed.reversed() { try fileSystem.removeFile(path(name)) }
            try fileSystem.synchronizeDirectory(directory)
        } catch {
            throw SnapshotError(error)
        }
        options.logger.debug("removed old snapshots", metadata: ["files": "\(doomed.map(\.0))"])
    }

    // MARK: Reading and transfer

    /// A streaming reader over a snapshot's uncompressed bytes (by default the one in force).
    public func makeReader(for snapshot: SnapshotDescriptor? = nil) throws(SnapshotError) -> SnapshotReader<FS> {
        guard let snapshot = snapshot ?? latest?.descriptor else { throw .invalidArgument("the store holds no snapshot") }
        return try SnapshotReader(path: path(snapshot.fileName), fileSystem: fileSystem, options: options)
    }

    /// A reader of a snapshot's stored bytes in chunks of `chunkSize`, for shipping to a
    /// follower.
    public func makeChunkReader(
        for snapshot: SnapshotDescriptor, chunkSize: Int
    ) throws(SnapshotError) -> SnapshotChunkReader<FS> {
        guard chunkSize >= 1, chunkSize <= options.maxChunkSize else {
            throw .invalidArgument("chunk size \(chunkSize) is outside 1...\(options.maxChunkSize)")
        }
        return try SnapshotChunkReader(
            fileSystem: fileSystem, path: path(snapshot.fileName), descriptor: snapshot, chunkSize: chunkSize)
    }

    /// Starts receiving the snapshot with this last index and term from a leader.
    public func makeReceiver(lastIndex: UInt64, term: UInt64) throws(SnapshotError) -> SnapshotReceiver<FS> {
        try checkInstallable(lastIndex: lastIndex, term: term)
        let temporary = path(SnapshotName.temporary(lastIndex: lastIndex, term: term, identifier: fileSystem.randomIdentifier()))
        let file: FS.FileHandle
        do { file = try fileSystem.openFile(temporary, mode: .createNew) } catch { throw SnapshotError(error) }
        return SnapshotReceiver(store: self, file: file, path: temporary, lastIndex: lastIndex, term: term)
    }

    // MARK: Recovery

    private static func recover(
        directory: String, fileSystem: FS, logFirstIndex: UInt64, logger: Logger
    ) throws(SnapshotError) -> SnapshotRecoveryReport {
        var report = SnapshotRecoveryReport()
        let names: [String]
        do {
            names = try fileSystem.contentsOfDirectory(directory)
            report.removedTemporaryFiles = names.filter { $0.hasSuffix(SnapshotName.temporarySuffix) }.sorted()
            for name in report.removedTemporaryFiles { try fileSystem.removeFile(directory + "/" + name) }
            if !report.removedTemporaryFiles.isEmpty { try fileSystem.synchronizeDirectory(directory) }
        } catch {
            throw SnapshotError(error)
        }
        let candidates = names.compactMap { name in SnapshotName.parse(name).map { (name, $0.lastIndex, $0.term) } }
            .sorted { ($0.1, $0.2) > ($1.1, $1.2) }
        var damaged: [String] = []
        for (name, lastIndex, term) in candidates {
            let path = directory + "/" + name
            do throws(SnapshotError) {
                report.inForce = try verify(path: path, named: (lastIndex, term), fileSystem: fileSystem)
                break
            } catch {
                guard case .corruption = error else { throw error }
                logger.error("snapshot is corrupt", metadata: ["error": "\(error)"])
                report.corrupt.append(error)
                damaged.append(name)
            }
        }
        if report.inForce != nil {
            // A process that died between a rename and the directory sync leaves a name that
            // is visible but not yet durable; syncing here makes `latest` deserve its type.
            do { try fileSystem.synchronizeDirectory(directory) } catch { throw SnapshotError(error) }
        }
        let reached = report.inForce?.lastIndex ?? 0
        // `logFirstIndex <= reached + 1`, written so that an index read from disk cannot overflow.
        guard logFirstIndex == 0 || logFirstIndex - 1 <= reached else {
            let newest = report.inForce.map { "the newest valid snapshot ends at index \($0.lastIndex)" }
                ?? "there is no valid snapshot"
            throw .noUsableSnapshot(
                reason: "the log starts at index \(logFirstIndex) but \(newest)",
                corrupt: damaged.map { directory + "/" + $0 })
        }
        if !damaged.isEmpty {
            // The older snapshot and the log cover what the damaged ones held. Setting them
            // aside keeps them for inspection and out of every later recovery.
            do {
                for name in damaged {
                    try fileSystem.rename(directory + "/" + name, to: directory + "/" + name + SnapshotName.corruptSuffix)
                }
                try fileSystem.synchronizeDirectory(directory)
            } catch {
                throw SnapshotError(error)
            }
            logger.warning(
                "using an older snapshot; the log covers the gap",
                metadata: ["inForce": "\(report.inForce?.fileName ?? "none")", "setAside": "\(damaged)"])
        }
        return report
    }

    /// Checks every snapshot file in `directory` without changing anything, as opening the
    /// store would: each result is the file's descriptor, or the error naming the damaged
    /// region (a header that disagrees with the file's name is damage too).
    public static func verifyAll(
        directory: String, fileSystem: FS
    ) throws(SnapshotError) -> [(file: String, result: Result<SnapshotDescriptor, SnapshotError>)] {
        let names: [String]
        do { names = try fileSystem.contentsOfDirectory(directory) } catch { throw SnapshotError(error) }
        return names.compactMap { name in SnapshotName.parse(name).map { (name, $0) } }.sorted { $0.0 < $1.0 }
            .map { name, identity in
                let path = directory + "/" + name
                do throws(SnapshotError) {
                    return (path, .success(try verify(path: path, named: identity, fileSystem: fileSystem)))
                } catch {
                    return (path, .failure(error))
                }
            }
    }

    /// Checks one snapshot file end to end, and that its header agrees with its name (which
    /// recovery trusts to order the snapshots).
    private static func verify(
        path: String, named identity: (lastIndex: UInt64, term: UInt64), fileSystem: FS
    ) throws(SnapshotError) -> SnapshotDescriptor {
        let descriptor = try SnapshotVerifier.verify(path: path, fileSystem: fileSystem)
        guard descriptor.lastIndex == identity.lastIndex, descriptor.term == identity.term else {
            throw SnapshotError.corruption(
                file: path, region: .header, offset: 16,
                reason: "header says index \(descriptor.lastIndex), term \(descriptor.term); the name disagrees")
        }
        return descriptor
    }
}
