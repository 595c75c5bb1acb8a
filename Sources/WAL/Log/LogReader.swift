/// Streams durable entries from the log, verifying every frame's CRC.
///
/// It reads through a bounded buffer, one segment at a time, so any range can be read with
/// constant memory. It sees the log as it was when it was made: entries appended later are
/// not included, and a segment deleted meanwhile by `truncatePrefix` ends the read with
/// `WALError.indexOutOfRange`.
public final class LogReader<FS: FileSystem> {
    private let fileSystem: FS
    private let directory: String
    private let options: WALOptions
    private let view: DurableView
    private var nextIndex: UInt64
    private let lastIndex: UInt64
    private var segmentPosition: Int
    private var current: (reader: FrameReader<FS>, file: FS.FileHandle)?

    init(fileSystem: FS, directory: String, options: WALOptions, view: DurableView, first: UInt64, last: UInt64) {
        self.fileSystem = fileSystem
        self.directory = directory
        self.options = options
        self.view = view
        self.nextIndex = first
        self.lastIndex = last
        // The last segment whose first index is at or below `first`.
        var low = 0
        var high = view.segments.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if view.segments[middle].firstIndex <= first { low = middle } else { high = middle - 1 }
        }
        self.segmentPosition = low
    }

    deinit {
        if let current { fileSystem.closeFile(current.file) }
    }

    /// The next entry, or nil after the last one.
    public func next() throws(WALError) -> LogEntry? {
        guard nextIndex <= lastIndex else { return nil }
        while true {
            guard segmentPosition < view.segments.count else {
                throw .indexOutOfRange(index: nextIndex, firstIndex: view.firstIndex, lastIndex: view.lastIndex)
            }
            let segment = view.segments[segmentPosition]
            guard segment.contains(nextIndex) else {
                segmentPosition += 1
                closeCurrent()
                continue
            }
            let reader: FrameReader<FS>
            if let current {
                reader = current.reader
            } else {
                reader = try open(segment)
            }
            return try readEntry(in: segment, from: reader)
        }
    }

    private func open(_ segment: SegmentInfo) throws(WALError) -> FrameReader<FS> {
        let path = directory + "/" + segment.name
        let file: FS.FileHandle
        do {
            file = try fileSystem.openFile(path, mode: .readOnly)
        } catch where error.code == .notFound {
            throw .indexOutOfRange(index: nextIndex, firstIndex: view.firstIndex, lastIndex: view.lastIndex)
        } catch {
            throw WALError(error)
        }
        let start = segment.scanStart(for: nextIndex, interval: options.indexInterval)
        let reader = FrameReader(
            fileSystem: fileSystem, file: file, path: path, salt: segment.header.salt,
            maxPayload: RecordFrame.maxPayloadSize, fileSize: segment.endOffset, startOffset: start,
            bufferSize: min(options.readBufferSize, 256 << 10))
        current = (reader, file)
        return reader
    }

    private func readEntry(in segment: SegmentInfo, from reader: FrameReader<FS>) throws(WALError) -> LogEntry {
        let path = reader.path
        while true {
            let step: FrameReader<FS>.Step
            do { step = try reader.next() } catch { throw WALError(error) }
            switch step {
            case .frame(let header, let offset, let payload):
                guard header.type == .entry else { continue }
                if header.index < nextIndex { continue }
                guard header.index == nextIndex else {
                    throw .corruption(
                        file: path, offset: offset, reason: "entry index \(header.index) where \(nextIndex) was expected")
                }
                nextIndex += 1
                if nextIndex > segment.lastIndex { closeCurrent(); segmentPosition += 1 }
                return LogEntry(index: header.index, term: header.term, payload: [UInt8](payload))
            case .endOfData(let offset):
                throw .corruption(file: path, offset: offset, reason: "segment ends before entry \(nextIndex)")
            case .invalid(let offset, let reason, _):
                throw .corruption(file: path, offset: offset, reason: reason)
            }
        }
    }

    private func closeCurrent() {
        if let current { fileSystem.closeFile(current.file) }
        current = nil
    }
}
