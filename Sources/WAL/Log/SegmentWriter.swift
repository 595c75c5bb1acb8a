/// The writer thread's side of the log: the open segment, the encode buffer, and the
/// operations that change files. Only the writer thread touches it.
final class SegmentWriter<FS: FileSystem> {
    let fileSystem: FS
    let directory: String
    let options: WALOptions

    /// The chain of live segments; the last one is open for appending.
    private(set) var segments: [SegmentInfo]
    private(set) var firstIndex: UInt64
    private(set) var hardState: HardState?
    private(set) var statistics = WALStatistics()
    private var active: FS.FileHandle
    private var writeOffset: Int64
    private var buffer: UnsafeMutableRawBufferPointer
    /// The directory lock, held for as long as the writer exists.
    private let lock: FS.FileHandle
    /// Makes the next segment ready ahead of the rollover; nil until the engine attaches it.
    var preparer: SegmentPreparer<FS>?
    /// The sequence number the next segment will have.
    private(set) var nextSequence: UInt64
    /// Whether the preparer was asked for the next segment since the active one started.
    private var preparationRequested = false

    var lastIndex: UInt64 { max(segments[segments.count - 1].lastIndex, firstIndex - 1) }

    init(
        fileSystem: FS, directory: String, options: WALOptions, segments: [SegmentInfo], firstIndex: UInt64,
        hardState: HardState?, nextSequence: UInt64, lock: FS.FileHandle
    ) throws(WALError) {
        precondition(!segments.isEmpty)
        self.lock = lock
        self.fileSystem = fileSystem
        self.directory = directory
        self.options = options
        self.segments = segments
        self.firstIndex = firstIndex
        self.hardState = hardState
        self.nextSequence = nextSequence
        self.buffer = .allocate(byteCount: 1 << 20, alignment: 16)
        let last = segments[segments.count - 1]
        self.writeOffset = last.endOffset
        do { self.active = try fileSystem.openFile(directory + "/" + last.name, mode: .readWrite) } catch {
            buffer.deallocate()
            throw WALError(error)
        }
    }

    private var isFinished = false

    deinit {
        finish()
        buffer.deallocate()
    }

    /// Closes the segment and releases the directory lock, so the log can be opened again.
    func finish() {
        guard !isFinished else { return }
        isFinished = true
        fileSystem.closeFile(active)
        fileSystem.closeFile(lock)
    }

    private func path(_ name: String) -> String { directory + "/" + name }

    // MARK: Appending

    /// Payloads at least this large are written straight from the caller's array with
    /// `pwritev` instead of being copied into the encode buffer: for 64 KiB records the copy
    /// costs a tenth of the batch's time. At most `maxZeroCopyPayloads` per batch, which
    /// bounds the nesting that keeps their pointers valid.
    static var zeroCopyThreshold: Int { 8 << 10 }
    static var maxZeroCopyPayloads: Int { 256 }

    /// A run of the batch's bytes: part of the encode buffer, or a large payload in place.
    private enum Piece {
        case encoded(Range<Int>)
        case payload(Int)
    }

    /// A batch that is written but not yet known to be durable.
    struct WrittenBatch {
        var requests: [AppendRequest]
        /// The file the batch went to, for the fdatasync that makes it durable.
        var file: FS.FileHandle
        /// The offset just past the batch.
        var end: Int64
        /// What readers may see once the batch is durable.
        var view: DurableView
    }

    /// The size the requests take on disk as one batch.
    func batchSize(_ requests: [AppendRequest]) -> Int {
        var total = RecordFrame.frameSize(payloadCount: RecordFrame.commitPayloadSize)
        for request in requests {
            if request.hardState != nil { total += RecordFrame.frameSize(payloadCount: RecordFrame.hardStatePayloadSize) }
            for entry in request.entries { total += RecordFrame.frameSize(payloadCount: entry.payload.count) }
        }
        return total
    }

    /// Whether a batch of `size` bytes should start a new segment first.
    func needsNewSegment(for size: Int) -> Bool {
        let current = segments[segments.count - 1]
        return writeOffset + Int64(size) > Int64(options.segmentSize) && current.lastIndex >= current.firstIndex
    }

    /// Seals the active segment and starts the next. Call only when every written batch is
    /// durable: a batch in the sealed segment must never be the torn one.
    func startNextSegment() throws(WALError) {
        try startSegment(firstIndex: lastIndex + 1, isTruncation: false)
    }

    /// The end of the active segment's data; durable whenever no written batch is pending.
    var endOffset: Int64 { writeOffset }

    /// Writes the requests as one batch with one vectored write, without syncing it.
    /// `durableEnd` is where the active segment's durable data ends; the batch's commit
    /// marker records it, so recovery knows which earlier batch this one saw durable.
    func write(_ requests: [AppendRequest], durableEnd: Int64) throws(WALError) -> WrittenBatch {
        let markerSize = RecordFrame.frameSize(payloadCount: RecordFrame.commitPayloadSize)
        let hardStateSize = RecordFrame.frameSize(payloadCount: RecordFrame.hardStatePayloadSize)
        var total = markerSize
        var encodedBytes = markerSize
        var newHardState: HardState?
        var entryCount = 0
        var zeroCopyCount = 0
        for request in requests {
            if let state = request.hardState { newHardState = state }
            entryCount += request.entries.count
            for entry in request.entries {
                let size = RecordFrame.frameSize(payloadCount: entry.payload.count)
                total += size
                if isZeroCopy(entry, after: zeroCopyCount) {
                    zeroCopyCount += 1
                    encodedBytes += size - entry.payload.count
                } else {
                    encodedBytes += size
                }
            }
        }
        if newHardState != nil {
            total += hardStateSize
            encodedBytes += hardStateSize
        }
        reserve(encodedBytes)

        var segment = segments[segments.count - 1]
        let batchStart = writeOffset
        let salt = segment.header.salt
        let base = buffer.baseAddress!
        var position = 0  // next byte of the encode buffer
        var frameOffset = batchStart  // file offset of the next frame
        var pieceStart = 0
        var pieces: [Piece] = []
        var largePayloads: [[UInt8]] = []
        var frames: UInt32 = 0
        if let state = newHardState {
            position += Self.encodeHardState(state, salt: salt, into: base)
            frameOffset += Int64(hardStateSize)
            frames += 1
        }
        var index = segment.lastIndex
        for request in requests {
            for entry in request.entries {
                index += 1
                assert(entry.index == index, "the engine validates indexes before they reach the writer")
                segment.noteEntry(index, at: frameOffset, interval: options.indexInterval)
                let size = RecordFrame.frameSize(payloadCount: entry.payload.count)
                if isZeroCopy(entry, after: largePayloads.count) {
                    let padding = size - RecordFrame.headerSize - entry.payload.count
                    entry.payload.withUnsafeBytes { payload in
                        RecordFrame.encodeHeader(
                            type: .entry, index: index, term: entry.term, payload: payload, padding: padding,
                            salt: salt, into: base + position)
                    }
                    position += RecordFrame.headerSize
                    pieces.append(.encoded(pieceStart..<position))
                    pieces.append(.payload(largePayloads.count))
                    largePayloads.append(entry.payload)
                    (base + position).initializeMemory(as: UInt8.self, repeating: 0, count: padding)
                    pieceStart = position
                    position += padding
                } else {
                    position += entry.payload.withUnsafeBytes { payload in
                        RecordFrame.encode(
                            type: .entry, index: index, term: entry.term, payload: payload, salt: salt, into: base + position)
                    }
                }
                frameOffset += Int64(size)
                frames += 1
            }
        }
        position += Self.encodeCommit(
            batchStart: batchStart, frames: frames, lastIndex: index, durableEnd: durableEnd, salt: salt,
            into: base + position)
        pieces.append(.encoded(pieceStart..<position))
        assert(position == encodedBytes && frameOffset + Int64(markerSize) == batchStart + Int64(total))

        let written: Result<Void, FileSystemError> = Self.withBuffers(of: largePayloads) { payloads in
            let buffers = pieces.compactMap { piece -> UnsafeRawBufferPointer? in
                switch piece {
                case .encoded(let range):
                    return range.isEmpty ? nil : UnsafeRawBufferPointer(start: base + range.lowerBound, count: range.count)
                case .payload(let number):
                    return payloads[number]
                }
            }
            do throws(FileSystemError) {
                try fileSystem.write(to: active, at: batchStart, from: buffers)
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        if case .failure(let error) = written { throw WALError(error) }
        writeOffset += Int64(total)
        statistics.batches += 1
        statistics.entries += UInt64(entryCount)
        statistics.bytesWritten += UInt64(total)
        segment.lastIndex = index
        segment.endOffset = writeOffset
        segments[segments.count - 1] = segment
        if let state = newHardState { hardState = state }
        if !preparationRequested && writeOffset >= Int64(options.segmentSize / 2) {
            // Half full: time to make the next segment ready, and not before, so that a log
            // that never rolls over never creates files for it.
            preparationRequested = true
            preparer?.request(preparationRequest(sequence: nextSequence, hardState: hardState))
        }
        return WrittenBatch(requests: requests, file: active, end: writeOffset, view: view)
    }

    /// What readers may see once everything written so far is durable.
    var view: DurableView {
        DurableView(
            firstIndex: firstIndex, lastIndex: lastIndex, hardState: hardState, segments: segments,
            statistics: statistics)
    }

    private func isZeroCopy(_ entry: LogEntry, after count: Int) -> Bool {
        entry.payload.count >= Self.zeroCopyThreshold && count < Self.maxZeroCopyPayloads
    }

    /// Calls `body` with a pointer to each payload's bytes, valid for the whole call.
    private static func withBuffers<R>(
        of payloads: [[UInt8]], _ body: ([UnsafeRawBufferPointer]) -> R
    ) -> R {
        var pointers: [UnsafeRawBufferPointer] = []
        pointers.reserveCapacity(payloads.count)
        func nest(_ next: Int) -> R {
            guard next < payloads.count else { return body(pointers) }
            return payloads[next].withUnsafeBytes { payload in
                pointers.append(payload)
                return nest(next + 1)
            }
        }
        return nest(0)
    }

    private func reserve(_ count: Int) {
        guard count > buffer.count else { return }
        buffer.deallocate()
        buffer = .allocate(byteCount: max(count, buffer.count * 2), alignment: 16)
    }

    private static func encodeHardState(_ state: HardState, salt: UInt32, into base: UnsafeMutableRawPointer) -> Int {
        withUnsafeTemporaryAllocation(byteCount: RecordFrame.hardStatePayloadSize, alignment: 8) { payload in
            state.encode(into: payload.baseAddress!)
            return RecordFrame.encode(
                type: .hardState, index: 0, term: 0, payload: UnsafeRawBufferPointer(payload), salt: salt, into: base)
        }
    }

    private static func encodeCommit(
        batchStart: Int64, frames: UInt32, lastIndex: UInt64, durableEnd: Int64, salt: UInt32,
        into base: UnsafeMutableRawPointer
    ) -> Int {
        withUnsafeTemporaryAllocation(byteCount: RecordFrame.commitPayloadSize, alignment: 8) { payload in
            payload.baseAddress!.storeLittleEndian(batchStart, at: 0)
            payload.baseAddress!.storeLittleEndian(frames, at: 8)
            payload.baseAddress!.storeLittleEndian(UInt32(0), at: 12)
            payload.baseAddress!.storeLittleEndian(durableEnd, at: 16)
            return RecordFrame.encode(
                type: .commit, index: lastIndex, term: 0, payload: UnsafeRawBufferPointer(payload), salt: salt,
                into: base)
        }
    }

    // MARK: Segments

    /// Creates a segment durably and makes it the active one. It is written under a
    /// temporary name, synced, renamed and the directory synced, so a crash leaves either no
    /// segment or a complete one. It begins with the current hard state, so deleting older
    /// segments can never lose the latest vote. When the preparer has the files ready, they
    /// are filled in and renamed instead of created; the order of durable steps is the same.
    private func startSegment(firstIndex: UInt64, isTruncation: Bool) throws(WALError) {
        let opening = Self.opening(
            fileSystem: fileSystem, sequence: nextSequence, firstIndex: firstIndex, isTruncation: isTruncation,
            hardState: hardState)
        let metadata = LogMetadata(firstIndex: self.firstIndex, lastSequence: nextSequence)
        let handle: FS.FileHandle
        if let prepared = preparer?.take(preparationRequest(sequence: nextSequence, hardState: hardState)) {
            handle = try install(opening, metadata: metadata, into: prepared)
            statistics.preparedSegmentsUsed += 1
        } else {
            try Self.create(opening, fileSystem: fileSystem, directory: directory)
            try metadata.write(fileSystem: fileSystem, directory: directory)
            do { handle = try fileSystem.openFile(path(opening.info.name), mode: .readWrite) } catch { throw WALError(error) }
        }
        nextSequence += 1
        statistics.segmentsCreated += 1
        fileSystem.closeFile(active)
        active = handle
        writeOffset = opening.info.endOffset
        segments.append(opening.info)
        preparationRequested = false
    }

    /// What the preparer should make ready for the segment with `sequence`.
    func preparationRequest(sequence: UInt64, hardState: HardState?) -> SegmentPreparer<FS>.Request {
        SegmentPreparer.Request(
            sequence: sequence, length: Self.openingLength(hasHardState: hardState != nil),
            metadata: LogMetadata(firstIndex: firstIndex, lastSequence: sequence))
    }

    /// Fills in a prepared segment, makes it durable under its name, then installs the
    /// prepared metadata: the same durable steps, in the same order, as creating both anew.
    private func install(
        _ opening: Opening, metadata: LogMetadata, into prepared: SegmentPreparer<FS>.Prepared
    ) throws(WALError) -> FS.FileHandle {
        let preparedPath = path(SegmentName.prepared(sequence: prepared.sequence))
        let metadataPath = path(LogMetadata.preparedName)
        do throws(FileSystemError) {
            defer { fileSystem.closeFile(prepared.metadataFile) }
            try fileSystem.write(opening.bytes, to: prepared.segment, at: 0)
            try fileSystem.synchronize(prepared.segment)
            try fileSystem.rename(preparedPath, to: path(opening.info.name))
            try fileSystem.synchronizeDirectory(directory)
            if metadata != prepared.metadata {
                // The log's first index moved since the files were prepared; same length, in place.
                try fileSystem.write(metadata.encoded, to: prepared.metadataFile, at: 0)
                try fileSystem.synchronize(prepared.metadataFile)
            }
            try fileSystem.rename(metadataPath, to: path(LogMetadata.fileName))
            try fileSystem.synchronizeDirectory(directory)
            return prepared.segment
        } catch {
            fileSystem.closeFile(prepared.segment)
            throw WALError(error)
        }
    }

    /// A new segment's name and opening bytes: its header and, when there is one, the hard
    /// state as its first batch.
    struct Opening {
        var info: SegmentInfo
        var bytes: [UInt8]
    }

    /// How long a new segment's opening bytes are.
    static func openingLength(hasHardState: Bool) -> Int {
        guard hasHardState else { return SegmentHeader.size }
        return SegmentHeader.size + RecordFrame.frameSize(payloadCount: RecordFrame.hardStatePayloadSize)
            + RecordFrame.frameSize(payloadCount: RecordFrame.commitPayloadSize)
    }

    static func opening(
        fileSystem: FS, sequence: UInt64, firstIndex: UInt64, isTruncation: Bool, hardState: HardState?
    ) -> Opening {
        let header = SegmentHeader(
            salt: max(1, UInt32(truncatingIfNeeded: fileSystem.randomIdentifier())), sequence: sequence, firstIndex: firstIndex,
            isTruncation: isTruncation)
        let name = SegmentName.make(sequence: sequence, firstIndex: firstIndex)
        var bytes = header.encoded
        if let hardState {
            bytes += [UInt8](repeating: 0, count: openingLength(hasHardState: true) - SegmentHeader.size)
            bytes.withUnsafeMutableBytes { raw in
                let base = raw.baseAddress! + SegmentHeader.size
                let size = encodeHardState(hardState, salt: header.salt, into: base)
                _ = encodeCommit(
                    batchStart: Int64(SegmentHeader.size), frames: 1, lastIndex: firstIndex - 1,
                    durableEnd: Int64(SegmentHeader.size), salt: header.salt, into: base + size)
            }
        }
        assert(bytes.count == openingLength(hasHardState: hardState != nil))
        let info = SegmentInfo(
            header: header, name: name, lastIndex: firstIndex - 1, checkpoints: CheckpointTable(), endOffset: Int64(bytes.count))
        return Opening(info: info, bytes: bytes)
    }

    /// Writes a new segment under a temporary name, syncs it, renames it and syncs the directory.
    private static func create(_ opening: Opening, fileSystem: FS, directory: String) throws(WALError) {
        let temporary = directory + "/" + opening.info.name + SegmentName.temporarySuffix
        do throws(FileSystemError) {
            let file = try fileSystem.openFile(temporary, mode: .createNew)
            defer { fileSystem.closeFile(file) }
            try fileSystem.write(opening.bytes, to: file, at: 0)
            try fileSystem.synchronize(file)
            try fileSystem.rename(temporary, to: directory + "/" + opening.info.name)
            try fileSystem.synchronizeDirectory(directory)
        } catch {
            throw WALError(error)
        }
    }

    static func createSegment(
        fileSystem: FS, directory: String, sequence: UInt64, firstIndex: UInt64, isTruncation: Bool,
        hardState: HardState?
    ) throws(WALError) -> SegmentInfo {
        let opening = opening(
            fileSystem: fileSystem, sequence: sequence, firstIndex: firstIndex, isTruncation: isTruncation,
            hardState: hardState)
        try create(opening, fileSystem: fileSystem, directory: directory)
        return opening.info
    }

    // MARK: Truncation

    /// Voids every entry after `index`, durably, before returning.
    ///
    /// A new *truncation segment* starting at `index + 1` is created first; from the moment
    /// its name is durable, recovery treats every later entry in older segments as void.
    /// Segments that hold only void entries are then deleted newest first, so a crash at any
    /// point leaves a log that recovers to the truncated state.
    func truncateSuffix(after index: UInt64) throws(WALError) {
        guard index >= firstIndex - 1 else {
            throw .invalidTruncation("cannot keep only entries up to \(index): the log starts at \(firstIndex)")
        }
        guard index < lastIndex else { return }
        let priorCount = segments.count
        try startSegment(firstIndex: index + 1, isTruncation: true)
        let created = segments.removeLast()
        assert(segments.count == priorCount)
        var removed = false
        while let last = segments.last, last.firstIndex > index {
            segments.removeLast()
            try remove(last.name)
            removed = true
        }
        if removed { try syncDirectory() }
        if !segments.isEmpty {
            segments[segments.count - 1].trim(after: index, interval: options.indexInterval)
        }
        segments.append(created)
    }

    /// Makes `index + 1` the log's first index, and deletes segments that hold only earlier
    /// entries. If the log ends before `index`, it restarts empty at `index + 1`.
    func truncatePrefix(through index: UInt64) throws(WALError) {
        guard index >= firstIndex else { return }
        try LogMetadata(firstIndex: index + 1, lastSequence: nextSequence - 1)
            .write(fileSystem: fileSystem, directory: directory)
        let previousLast = lastIndex
        firstIndex = index + 1
        if index > previousLast {
            try startSegment(firstIndex: index + 1, isTruncation: false)
        }
        var removed = false
        while segments.count > 1 && segments[0].lastIndex <= index {
            try remove(segments.removeFirst().name)
            removed = true
        }
        if removed { try syncDirectory() }
    }

    private func remove(_ name: String) throws(WALError) {
        do { try fileSystem.removeFile(path(name)) } catch { throw WALError(error) }
    }

    private func syncDirectory() throws(WALError) {
        do { try fileSystem.synchronizeDirectory(directory) } catch { throw WALError(error) }
    }
}
