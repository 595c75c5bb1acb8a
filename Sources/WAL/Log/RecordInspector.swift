/// One frame of a segment file, as an operator sees it.
public struct RecordSummary: Sendable, Hashable {
    /// The kind of record.
    public enum Kind: String, Sendable {
        /// A log entry.
        case entry
        /// A saved hard state.
        case hardState = "hard-state"
        /// The commit marker that ends a batch.
        case commit
    }

    /// The segment file.
    public var file: String
    /// The frame's byte offset in the file.
    public var offset: Int64
    /// What the frame holds.
    public var kind: Kind
    /// The entry index (for a commit marker, the batch's last index).
    public var index: UInt64
    /// The entry's term; zero for other kinds.
    public var term: UInt64
    /// The payload's size in bytes.
    public var size: Int
    /// The decoded hard state, for hard-state records.
    public var hardState: HardState?
}

extension WriteAheadLog {
    /// Lists every frame of every segment in sequence order, without changing anything:
    /// an operator's view of the files, checked frame by frame.
    ///
    /// For an intact log, these are the frames of every committed batch; a torn tail that
    /// opening the log would drop is not listed. For a damaged log, every intact frame before
    /// the damage is listed first (in sequence order, including those of the batch the damage
    /// is in), and then the `WALError.corruption` that recovery reports is thrown.
    public static func forEachRecord(
        directory: String, fileSystem: FS, options: WALOptions = WALOptions(),
        _ body: (RecordSummary) -> Void
    ) throws(WALError) {
        try options.validate()
        let outcome: Recovery<FS>.Outcome
        do {
            outcome = try Recovery(fileSystem: fileSystem, directory: directory, options: options).run()
        } catch {
            guard case .corruption(let file, let offset, _) = error else { throw error }
            try forEachRecord(
                before: (file, offset), directory: directory, fileSystem: fileSystem, options: options, body)
            throw error
        }
        for segment in outcome.segments {
            let path = directory + "/" + segment.name
            let reader = try performIO { () throws(FileSystemError) in
                try fileSystem.openFile(path, mode: .readOnly)
            }
            defer { fileSystem.closeFile(reader) }
            _ = try listFrames(
                in: reader, path: path, salt: segment.header.salt, end: segment.endOffset,
                fileSystem: fileSystem, options: options, body)
        }
    }

    /// Lists the intact frames of a damaged log up to `damage`: every segment file in sequence
    /// order, stopping at the damaged offset of the damaged file, or at the first frame that
    /// fails its check, whichever comes first.
    private static func forEachRecord(
        before damage: (file: String, offset: Int64), directory: String, fileSystem: FS, options: WALOptions,
        _ body: (RecordSummary) -> Void
    ) throws(WALError) {
        let names = try performIO { () throws(FileSystemError) in try fileSystem.contentsOfDirectory(directory) }
        let segments = names.compactMap { name in SegmentName.parse(name).map { (name: name, sequence: $0.sequence) } }
            .sorted { $0.sequence < $1.sequence }
        for segment in segments {
            let path = directory + "/" + segment.name
            let isDamaged = path == damage.file
            let file = try performIO { () throws(FileSystemError) in try fileSystem.openFile(path, mode: .readOnly) }
            defer { fileSystem.closeFile(file) }
            let size = try performIO { () throws(FileSystemError) in try fileSystem.size(of: file) }
            guard size >= Int64(SegmentHeader.size) else { return }
            let bytes = try performIO { () throws(FileSystemError) in
                try fileSystem.read(count: SegmentHeader.size, from: file, at: 0)
            }
            guard case .success(let header) = bytes.withUnsafeBytes({ SegmentHeader.decode($0) }) else { return }
            let end = isDamaged ? min(damage.offset, size) : size
            let reachedEnd = try listFrames(
                in: file, path: path, salt: header.salt, end: end, fileSystem: fileSystem, options: options, body)
            guard reachedEnd, !isDamaged else { return }
        }
    }

    /// Lists the frames of one segment file from its first frame up to `end`. Returns whether
    /// every byte up to `end` was intact frames (false if it stopped at a bad frame or zeros).
    private static func listFrames(
        in file: FS.FileHandle, path: String, salt: UInt32, end: Int64, fileSystem: FS, options: WALOptions,
        _ body: (RecordSummary) -> Void
    ) throws(WALError) -> Bool {
        let reader = FrameReader(
            fileSystem: fileSystem, file: file, path: path, salt: salt, maxPayload: RecordFrame.maxPayloadSize,
            fileSize: end, startOffset: Int64(SegmentHeader.size), bufferSize: options.readBufferSize)
        while true {
            switch try performIO({ () throws(FileSystemError) in try reader.next() }) {
            case .frame(let header, let offset, let payload):
                let kind: RecordSummary.Kind
                switch header.type {
                case .entry: kind = .entry
                case .hardState: kind = .hardState
                case .commit: kind = .commit
                }
                body(
                    RecordSummary(
                        file: path, offset: offset, kind: kind, index: header.index, term: header.term,
                        size: header.payloadCount,
                        hardState: kind == .hardState ? HardState(decoding: payload.baseAddress!) : nil))
            case .endOfData(let offset):
                return offset == end
            case .invalid:
                return false
            }
        }
    }
}
