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
    /// an operator's view of the files, checked frame by frame. Stops with
    /// `WALError.corruption` at the first frame that fails its check.
    public static func forEachRecord(
        directory: String, fileSystem: FS, options: WALOptions = WALOptions(),
        _ body: (RecordSummary) -> Void
    ) throws(WALError) {
        try options.validate()
        let outcome = try Recovery(fileSystem: fileSystem, directory: directory, options: options).run()
        for segment in outcome.segments {
            let path = directory + "/" + segment.name
            do throws(FileSystemError) {
                let file = try fileSystem.openFile(path, mode: .readOnly)
                defer { fileSystem.closeFile(file) }
                let reader = FrameReader(
                    fileSystem: fileSystem, file: file, path: path, salt: segment.header.salt,
                    maxPayload: RecordFrame.maxPayloadSize, fileSize: segment.endOffset,
                    startOffset: Int64(SegmentHeader.size), bufferSize: options.readBufferSize)
                while case .frame(let header, let offset, let payload) = try reader.next() {
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
                }
            } catch {
                throw WALError(error)
            }
        }
    }
}
