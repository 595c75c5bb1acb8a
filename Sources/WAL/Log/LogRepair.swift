/// What repairing a log whose last batch is damaged would drop: everything from the end of
/// the last intact batch to the end of the last segment.
public struct RepairPlan: Sendable, Hashable {
    /// The damage recovery reports, which keeps the log from opening.
    public var damage: WALError
    /// The last segment file, which repair truncates.
    public var file: String
    /// Where the last intact batch ends: the file is cut here.
    public var offset: Int64
    /// How many bytes are dropped.
    public var droppedBytes: Int64
    /// The indexes of the entries the dropped batch holds, or nil if it holds none. Exact
    /// when the batch's commit marker is intact; otherwise the entries whose frames were
    /// still intact, so at least these.
    public var lostIndexes: ClosedRange<UInt64>?
    /// Whether `lostIndexes` comes from the batch's intact commit marker.
    public var lostIndexesAreExact: Bool
}

/// What `WriteAheadLog.repair` found.
public enum RepairAssessment: Sendable, Hashable {
    /// The log opens as it is (a torn tail, if any, is dropped by opening it).
    case intact(RecoveryReport)
    /// The damage is in the last batch of the last segment, and cutting that batch off
    /// makes the log open.
    case repairable(RepairPlan)
    /// The damage lies where cutting the log would drop batches after it, which may have
    /// been acknowledged, or where no cut helps (a segment header, the segment chain, the
    /// log's metadata). `reason` says which.
    case refused(damage: WALError, reason: String)
}

extension WriteAheadLog {
    /// Repairs a log whose last batch is damaged in a way a torn write cannot explain, so
    /// that it opens again, as etcd's `wal.Repair` does for its last record.
    ///
    /// With `backupDirectory` nil, nothing is changed: the result says what a repair would
    /// drop, or why it is refused. With a directory, the log's lock is taken, the assessment
    /// is made again, and a repairable log's last segment is first copied (and synced) into
    /// `backupDirectory`, then truncated at the end of its last intact batch and synced.
    ///
    /// The dropped batch's entries may have been acknowledged; a Raft node gets them back
    /// from its peers. Damage anywhere else is refused: cutting there would drop later
    /// batches silently.
    public static func repair(
        directory: String, fileSystem: FS, options: WALOptions = WALOptions(), backupDirectory: String? = nil
    ) throws(WALError) -> RepairAssessment {
        try options.validate()
        guard let backupDirectory else {
            return try assessRepair(directory: directory, fileSystem: fileSystem, options: options)
        }
        let lockPath = directory + "/" + lockFileName
        let lock: FS.FileHandle
        do {
            lock = try fileSystem.lockFile(lockPath)
        } catch where error.code == .locked {
            throw .directoryLocked(lockPath)
        } catch {
            throw WALError(error)
        }
        defer { fileSystem.closeFile(lock) }
        let assessment = try assessRepair(directory: directory, fileSystem: fileSystem, options: options)
        guard case .repairable(let plan) = assessment else { return assessment }
        try performIO { () throws(FileSystemError) in
            try copyFile(plan.file, into: backupDirectory, fileSystem: fileSystem)
            try fileSystem.synchronizeDirectory(directory)
            let file = try fileSystem.openFile(plan.file, mode: .readWrite)
            defer { fileSystem.closeFile(file) }
            try fileSystem.truncate(file, to: plan.offset)
            try fileSystem.synchronize(file)
        }
        return assessment
    }

    private static func assessRepair(
        directory: String, fileSystem: FS, options: WALOptions
    ) throws(WALError) -> RepairAssessment {
        let damage: WALError
        let damagedFile: String
        let damagedOffset: Int64
        do {
            return .intact(try Recovery(fileSystem: fileSystem, directory: directory, options: options).run().report)
        } catch {
            guard case .corruption(let file, let offset, _) = error else { throw error }
            (damage, damagedFile, damagedOffset) = (error, file, offset)
        }
        let names = try performIO { () throws(FileSystemError) in try fileSystem.contentsOfDirectory(directory) }
        let last = names.compactMap { name in SegmentName.parse(name).map { (name: name, sequence: $0.sequence) } }
            .max { $0.sequence < $1.sequence }
        guard let last, damagedFile == directory + "/" + last.name, damagedOffset >= Int64(SegmentHeader.size) else {
            return .refused(
                damage: damage,
                reason: "the damage is not in the records of the last segment, so no cut at the end of the log removes it")
        }
        let path = damagedFile
        let file = try performIO { () throws(FileSystemError) in try fileSystem.openFile(path, mode: .readOnly) }
        defer { fileSystem.closeFile(file) }
        let fileSize = try performIO { () throws(FileSystemError) in try fileSystem.size(of: file) }
        let headerBytes = try performIO { () throws(FileSystemError) in
            try fileSystem.read(count: SegmentHeader.size, from: file, at: 0)
        }
        guard case .success(let header) = headerBytes.withUnsafeBytes({ SegmentHeader.decode($0) }) else {
            return .refused(damage: damage, reason: "the last segment's header is damaged")
        }
        let intact = try intactBatches(
            in: file, path: path, header: header, before: damagedOffset, fileSize: fileSize,
            fileSystem: fileSystem, options: options)
        let scanner = SegmentScanner(fileSystem: fileSystem, directory: directory, options: options)
        let markers = try scanner.intactMarkers(in: file, from: intact.end, fileSize: fileSize, salt: header.salt)
        if let later = markers.first(where: { $0.batchStart > intact.end }) {
            return .refused(
                damage: damage,
                reason: "a later batch follows the damaged one (its commit marker is intact at \(path):\(later.offset)), "
                    + "so the damage is not in the last batch: cutting at byte \(intact.end) would drop that batch, "
                    + "which may have been acknowledged")
        }
        let ownMarker = markers.first { $0.batchStart == intact.end }
        var lastLost = intact.highestEntryAfterEnd
        if let ownMarker {
            let bytes = try performIO { () throws(FileSystemError) in
                try fileSystem.read(count: RecordFrame.headerSize, from: file, at: ownMarker.offset)
            }
            lastLost = bytes.withUnsafeBytes { $0.baseAddress!.loadLittleEndian(at: 16, as: UInt64.self) }
        }
        let firstLost = intact.lastIndex + 1
        let plan = RepairPlan(
            damage: damage, file: path, offset: intact.end, droppedBytes: fileSize - intact.end,
            lostIndexes: lastLost.flatMap { $0 >= firstLost ? firstLost...$0 : nil },
            lostIndexesAreExact: ownMarker != nil)
        return .repairable(plan)
    }

    /// Reads the committed batches of a segment up to the damage: where the last of them ends,
    /// its last index, and the highest entry index among the intact frames after it.
    private static func intactBatches(
        in file: FS.FileHandle, path: String, header: SegmentHeader, before damage: Int64, fileSize: Int64,
        fileSystem: FS, options: WALOptions
    ) throws(WALError) -> (end: Int64, lastIndex: UInt64, highestEntryAfterEnd: UInt64?) {
        let reader = FrameReader(
            fileSystem: fileSystem, file: file, path: path, salt: header.salt, maxPayload: RecordFrame.maxPayloadSize,
            fileSize: min(damage, fileSize), startOffset: Int64(SegmentHeader.size), bufferSize: options.readBufferSize)
        var end = Int64(SegmentHeader.size)
        var lastIndex = header.firstIndex - 1
        var highest: UInt64?
        var frames: UInt32 = 0
        while case .frame(let frame, let offset, let payload) = try performIO({ () throws(FileSystemError) in try reader.next() }) {
            switch frame.type {
            case .entry:
                highest = frame.index
                frames += 1
            case .hardState:
                frames += 1
            case .commit:
                let start = payload.baseAddress!.loadLittleEndian(at: 0, as: Int64.self)
                let count = payload.baseAddress!.loadLittleEndian(at: 8, as: UInt32.self)
                guard start == end, count == frames else { return (end, lastIndex, highest) }
                end = offset + Int64(frame.frameSize)
                lastIndex = frame.index
                highest = nil
                frames = 0
            }
        }
        return (end, lastIndex, highest)
    }

    /// Copies `path` into `directory` (created if needed) under its own name, and syncs both.
    private static func copyFile(_ path: String, into directory: String, fileSystem: FS) throws(FileSystemError) {
        try fileSystem.createDirectory(directory)
        let name = path.split(separator: "/").last.map(String.init) ?? path
        let source = try fileSystem.openFile(path, mode: .readOnly)
        defer { fileSystem.closeFile(source) }
        let copy = try fileSystem.openFile(directory + "/" + name, mode: .createNew)
        defer { fileSystem.closeFile(copy) }
        let size = try fileSystem.size(of: source)
        var offset: Int64 = 0
        while offset < size {
            let bytes = try fileSystem.read(count: Int(min(1 << 20, size - offset)), from: source, at: offset)
            guard !bytes.isEmpty else { break }
            try fileSystem.write(bytes, to: copy, at: offset)
            offset += Int64(bytes.count)
        }
        try fileSystem.synchronize(copy)
        try fileSystem.synchronizeDirectory(directory)
    }
}
