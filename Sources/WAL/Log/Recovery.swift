/// Opens a log directory: scans every segment in sequence order, checks that they chain,
/// applies truncations and the first-index floor, and says what must be repaired.
///
/// Memory is bounded whatever the log's length: segments are streamed through a fixed
/// buffer, and only per-segment metadata and sparse offsets are kept.
struct Recovery<FS: FileSystem> {
    struct Outcome {
        var segments: [SegmentInfo]
        var firstIndex: UInt64
        var hardState: HardState?
        /// The size of the last segment's file, before any torn tail is cut off.
        var lastFileSize: Int64
        var report: RecoveryReport
        /// Files to delete: temporaries, and segments void by truncation or the floor.
        var obsoleteFiles: [String]
        var nextSequence: UInt64
    }

    let fileSystem: FS
    let directory: String
    let options: WALOptions

    func run() throws(WALError) -> Outcome {
        let names: [String]
        do { names = try fileSystem.contentsOfDirectory(directory) } catch { throw WALError(error) }
        var obsolete = names.filter(Self.isLogTemporary)
        let metadata = try readMetadata(names: names)
        let floor = metadata?.firstIndex ?? 1

        var named: [(name: String, sequence: UInt64, firstIndex: UInt64)] = []
        for name in names {
            if let parsed = SegmentName.parse(name) { named.append((name, parsed.sequence, parsed.firstIndex)) }
        }
        named.sort { $0.sequence < $1.sequence }
        // The newest segment is recorded once it is durable: finding an older one means the
        // last segment is gone, and with it acknowledged entries.
        if let recorded = metadata?.lastSequence, recorded > (named.last?.sequence ?? 0) {
            let found = named.last.map { "the newest segment found is \($0.name)" } ?? "no segment was found"
            throw WALError.corruption(
                file: directory + "/" + LogMetadata.fileName, offset: 0,
                reason: "the last segment, sequence \(recorded), is missing (\(found))")
        }
        for (previous, next) in zip(named, named.dropFirst()) where previous.sequence == next.sequence {
            throw WALError.corruption(
                file: directory + "/" + next.name, offset: 0, reason: "two segments with sequence \(next.sequence)")
        }

        let scanner = SegmentScanner(fileSystem: fileSystem, directory: directory, options: options)
        var report = RecoveryReport()
        var chain: [SegmentInfo] = []
        var hardState: HardState?
        var lastFileSize: Int64 = 0
        for (position, segment) in named.enumerated() {
            let isLast = position == named.count - 1
            let result = try scanner.scan(
                name: segment.name, expected: (segment.sequence, segment.firstIndex), isLast: isLast)
            report.bytesScanned += result.fileSize
            hardState = result.hardState ?? hardState
            if isLast {
                report.tornTail = result.tornTail
                lastFileSize = result.fileSize
            }
            obsolete += try link(result.info, into: &chain, floor: floor)
        }

        // Segments wholly below the floor were made void by truncatePrefix; the last one stays
        // so that the log keeps its place even when it is empty.
        while chain.count > 1 && chain[0].lastIndex < floor {
            obsolete.append(chain.removeFirst().name)
        }
        // The first live segment holds the log's first index (or starts there): one that
        // starts later means the segments before it are gone.
        if let first = chain.first, first.firstIndex > floor {
            throw WALError.corruption(
                file: directory + "/" + first.name, offset: 0,
                reason: "the log starts at index \(floor) but its first segment starts at \(first.firstIndex): the first segment, holding entries \(floor)...\(first.firstIndex - 1), is missing")
        }
        let firstIndex = max(floor, chain.first?.firstIndex ?? floor)
        let lastIndex = max(chain.last?.lastIndex ?? firstIndex - 1, firstIndex - 1)
        report.segmentCount = chain.count
        report.firstIndex = firstIndex
        report.lastIndex = lastIndex
        report.entryCount = lastIndex + 1 - firstIndex
        report.hardState = hardState
        return Outcome(
            segments: chain, firstIndex: firstIndex, hardState: hardState, lastFileSize: lastFileSize,
            report: report, obsoleteFiles: obsolete, nextSequence: max(named.last?.sequence ?? 0, metadata?.lastSequence ?? 0) + 1)
    }

    /// Appends a scanned segment to the chain. Returns the names of segments it made void.
    private func link(_ segment: SegmentInfo, into chain: inout [SegmentInfo], floor: UInt64) throws(WALError)
        -> [String]
    {
        guard let previous = chain.last else {
            chain.append(segment)
            return []
        }
        let path = directory + "/" + segment.name
        if segment.header.isTruncation {
            // A truncation segment voids every entry at or after its first index.
            guard segment.firstIndex <= previous.lastIndex + 1 || segment.firstIndex == floor else {
                throw WALError.corruption(
                    file: path, offset: 0,
                    reason: "truncation segment starts at \(segment.firstIndex), after the log's end \(previous.lastIndex)")
            }
            var void: [String] = []
            while let last = chain.last, last.firstIndex >= segment.firstIndex {
                void.append(chain.removeLast().name)
            }
            if !chain.isEmpty {
                chain[chain.count - 1].trim(after: segment.firstIndex - 1, interval: options.indexInterval)
            }
            chain.append(segment)
            return void
        }
        // A gap in indexes is allowed only where truncatePrefix restarted the log at the floor.
        guard segment.sequence == previous.sequence + 1,
            segment.firstIndex == previous.lastIndex + 1
                || (segment.firstIndex == floor && previous.lastIndex < floor)
        else {
            throw WALError.corruption(
                file: path, offset: 0,
                reason: "segment \(segment.sequence) starting at \(segment.firstIndex) does not follow segment \(previous.sequence) ending at \(previous.lastIndex)")
        }
        chain.append(segment)
        return []
    }

    /// Whether `name` is a temporary file this log writes (a segment being created or
    /// prepared, or `wal.meta` being replaced or prepared). Only those are removed: anything
    /// else in the directory, such as a user's `notes.tmp` or a directory `build.tmp`, is not
    /// the log's to delete.
    static func isLogTemporary(_ name: String) -> Bool {
        if name == LogMetadata.temporaryName || name == LogMetadata.preparedName || SegmentName.isPrepared(name) {
            return true
        }
        guard name.hasSuffix(SegmentName.temporarySuffix) else { return false }
        return SegmentName.parse(String(name.dropLast(SegmentName.temporarySuffix.count))) != nil
    }

    private func readMetadata(names: [String]) throws(WALError) -> LogMetadata? {
        guard names.contains(LogMetadata.fileName) else { return nil }
        let path = directory + "/" + LogMetadata.fileName
        let bytes: [UInt8]
        do throws(FileSystemError) {
            let file = try fileSystem.openFile(path, mode: .readOnly)
            defer { fileSystem.closeFile(file) }
            bytes = try fileSystem.read(count: LogMetadata.size + 1, from: file, at: 0)
        } catch {
            throw WALError(error)
        }
        guard let metadata = LogMetadata.decode(bytes) else {
            throw WALError.corruption(file: path, offset: 0, reason: "invalid log metadata")
        }
        return metadata
    }
}
