/// Recovers one segment file: verifies its header and every frame, and finds where its
/// committed batches end.
///
/// The torn-tail rule: a batch counts only once its commit marker is intact and matches it.
/// Damage is forgiven only in the last segment (segments are sealed only once all their
/// batches are durable), only if no later intact marker records the damaged batch as durable
/// (each marker carries the durable end the writer knew of; a batch may be written while the
/// one before it is still syncing), and only where a torn write explains it: the damaged
/// frame runs past the end of the file, or one of its sectors reads as zeros in the part
/// this batch wrote (the disk may persist a write's sectors in any order, so a hole can sit
/// before sectors that made it, even before the batch's own marker). Everything from the
/// damaged batch on is then dropped: none of it was acknowledged. Any other damage is
/// corruption.
///
/// One ambiguity remains and is resolved toward availability: a flipped bit in the last batch
/// of a log whose damaged frame also holds a 512-byte sector of legitimate zeros is taken for
/// a tear, and that batch is dropped. Raft re-replicates such an entry from its peers.
struct SegmentScanner<FS: FileSystem> {
    struct Result {
        var info: SegmentInfo
        var hardState: HardState?
        var fileSize: Int64
        var tornTail: RecoveryReport.TornTail?
    }

    let fileSystem: FS
    let directory: String
    let options: WALOptions

    func scan(name: String, expected: (sequence: UInt64, firstIndex: UInt64), isLast: Bool) throws(WALError)
        -> Result
    {
        let path = directory + "/" + name
        let file = try performIO { () throws(FileSystemError) in try fileSystem.openFile(path, mode: .readOnly) }
        defer { fileSystem.closeFile(file) }
        return try scan(file: file, path: path, name: name, expected: expected, isLast: isLast)
    }

    private func scan(
        file: FS.FileHandle, path: String, name: String,
        expected: (sequence: UInt64, firstIndex: UInt64), isLast: Bool
    ) throws(WALError) -> Result {
        let fileSize = try performIO { () throws(FileSystemError) in try fileSystem.size(of: file) }
        let header = try readHeader(file: file, path: path, fileSize: fileSize)
        guard header.sequence == expected.sequence, header.firstIndex == expected.firstIndex else {
            throw WALError.corruption(
                file: path, offset: 0,
                reason: "header says sequence \(header.sequence), first index \(header.firstIndex); the name disagrees")
        }
        var info = SegmentInfo(
            header: header, name: name, lastIndex: header.firstIndex - 1, checkpoints: CheckpointTable(),
            endOffset: Int64(SegmentHeader.size))
        var hardState: HardState?

        let reader = FrameReader(
            fileSystem: fileSystem, file: file, path: path, salt: header.salt,
            maxPayload: RecordFrame.maxPayloadSize, fileSize: fileSize,
            startOffset: Int64(SegmentHeader.size), bufferSize: options.readBufferSize)
        // The batch being read: committed into `info` only when its marker checks out.
        var batchFrames: UInt32 = 0
        var batchHardState: HardState?
        var batchCheckpoints: [Int64] = []
        var nextIndex = header.firstIndex

        let damage: (offset: Int64, reason: String, end: Int64)
        scanning: while true {
            switch try performIO({ () throws(FileSystemError) in try reader.next() }) {
            case .frame(let frame, let offset, let payload):
                switch frame.type {
                case .entry:
                    guard frame.index == nextIndex else {
                        throw WALError.corruption(
                            file: path, offset: offset,
                            reason: "entry index \(frame.index) where \(nextIndex) was expected")
                    }
                    if (nextIndex - header.firstIndex) % UInt64(options.indexInterval) == 0 {
                        batchCheckpoints.append(offset)
                    }
                    nextIndex += 1
                case .hardState:
                    batchHardState = HardState(decoding: payload.baseAddress!)
                case .commit:
                    let start = payload.baseAddress!.loadLittleEndian(at: 0, as: Int64.self)
                    let count = payload.baseAddress!.loadLittleEndian(at: 8, as: UInt32.self)
                    let durableEnd = payload.baseAddress!.loadLittleEndian(at: 16, as: Int64.self)
                    guard start == info.endOffset, count == batchFrames, frame.index == nextIndex - 1,
                        (Int64(SegmentHeader.size)...start).contains(durableEnd)
                    else {
                        throw WALError.corruption(
                            file: path, offset: offset,
                            reason: "commit marker for \(count) frames at \(start) does not match the batch of \(batchFrames) frames at \(info.endOffset)")
                    }
                    info.lastIndex = nextIndex - 1
                    info.checkpoints.append(contentsOf: batchCheckpoints)
                    info.endOffset = offset + Int64(frame.frameSize)
                    hardState = batchHardState ?? hardState
                    batchFrames = 0
                    batchHardState = nil
                    batchCheckpoints.removeAll(keepingCapacity: true)
                    continue scanning
                }
                batchFrames += 1
            case .endOfData(let offset):
                if batchFrames == 0 && offset == fileSize {
                    return Result(info: info, hardState: hardState, fileSize: fileSize, tornTail: nil)
                }
                let reason = batchFrames == 0 ? "zero bytes after the last batch" : "batch without a commit marker"
                damage = (offset, reason, offset + Int64(RecordFrame.headerSize))
                break scanning
            case .invalid(let offset, let reason, let claimedEnd):
                damage = (offset, reason, claimedEnd ?? offset + Int64(RecordFrame.headerSize))
                break scanning
            }
        }

        guard isLast else {
            throw WALError.corruption(file: path, offset: damage.offset, reason: damage.reason)
        }
        let batchStart = info.endOffset
        let markers = try intactMarkers(in: file, from: batchStart, fileSize: fileSize, salt: header.salt)
        if let witness = markers.first(where: { $0.durableEnd > batchStart }) {
            throw WALError.corruption(
                file: path, offset: damage.offset,
                reason: "\(damage.reason), in a batch that the batch at byte \(witness.offset) saw durable")
        }
        if let own = markers.first(where: { $0.batchStart == batchStart }), damage.end > own.offset {
            throw WALError.corruption(
                file: path, offset: damage.offset,
                reason: "\(damage.reason); the frame's length runs into its batch's intact commit marker")
        }
        guard try tearExplains(file: file, from: damage.offset, to: damage.end, batchStart: batchStart, fileSize: fileSize)
        else {
            throw WALError.corruption(
                file: path, offset: damage.offset,
                reason: "\(damage.reason), in bytes a torn write cannot explain (every sector present)")
        }
        let torn = RecoveryReport.TornTail(
            file: path, offset: batchStart, droppedBytes: fileSize - batchStart, reason: damage.reason)
        return Result(info: info, hardState: hardState, fileSize: fileSize, tornTail: torn)
    }

    private func readHeader(file: FS.FileHandle, path: String, fileSize: Int64) throws(WALError) -> SegmentHeader {
        guard fileSize >= Int64(SegmentHeader.size) else {
            throw WALError.corruption(file: path, offset: 0, reason: "file is shorter than a segment header")
        }
        let bytes = try performIO { () throws(FileSystemError) in
            try fileSystem.read(count: SegmentHeader.size, from: file, at: 0)
        }
        switch bytes.withUnsafeBytes({ SegmentHeader.decode($0) }) {
        case .success(let header):
            return header
        case .failure(.unsupportedVersion(let version)):
            throw WALError.unsupportedVersion(file: path, version: version)
        case .failure(let error):
            throw WALError.corruption(file: path, offset: 0, reason: "segment header: \(error)")
        }
    }

    /// Whether the damaged bytes `start..<end` can be the work of a torn write: they run past
    /// the end of the file, or a 512-byte sector they touch reads as zeros wherever this batch
    /// wrote it (bytes before `batchStart` were durable before the batch began). Files grow
    /// only by appending and space is never reused, so a sector a crash failed to write is a
    /// hole of zeros or lies beyond the end of the file.
    private func tearExplains(
        file: FS.FileHandle, from start: Int64, to end: Int64, batchStart: Int64, fileSize: Int64
    ) throws(WALError) -> Bool {
        if end > fileSize { return true }
        let sector = Int64(512)
        var sectorStart = start / sector * sector
        while sectorStart < end {
            let from = max(sectorStart, batchStart)
            let to = min(sectorStart + sector, fileSize)
            if from < to {
                let bytes = try performIO { () throws(FileSystemError) in
                    try fileSystem.read(count: Int(to - from), from: file, at: from)
                }
                if bytes.allSatisfy({ $0 == 0 }) { return true }
            }
            sectorStart += sector
        }
        return false
    }

    /// Finds every intact commit marker of a batch starting at or after `start`, at any
    /// 8-byte-aligned offset (the salt keeps stale bytes from passing), in file order.
    func intactMarkers(in file: FS.FileHandle, from start: Int64, fileSize: Int64, salt: UInt32)
        throws(WALError) -> [(offset: Int64, batchStart: Int64, durableEnd: Int64)]
    {
        var markers: [(offset: Int64, batchStart: Int64, durableEnd: Int64)] = []
        let frameSize = RecordFrame.frameSize(payloadCount: RecordFrame.commitPayloadSize)
        let chunk = max(options.readBufferSize, 4 * frameSize)
        var chunkStart = start
        while chunkStart + Int64(frameSize) <= fileSize {
            let count = min(chunk, Int(fileSize - chunkStart))
            let bytes = try performIO { () throws(FileSystemError) in
                try fileSystem.read(count: count, from: file, at: chunkStart)
            }
            bytes.withUnsafeBytes { raw in
                var position = 0
                while position + frameSize <= raw.count {
                    let base = UnsafeRawPointer(raw.baseAddress! + position)
                    if case .header(let header) = RecordFrame.readHeader(at: base, maxPayload: frameSize),
                        header.type == .commit,
                        RecordFrame.checksumMatches(header, frame: base, salt: salt)
                    {
                        let batchStart = base.loadLittleEndian(at: RecordFrame.headerSize, as: Int64.self)
                        let durableEnd = base.loadLittleEndian(at: RecordFrame.headerSize + 16, as: Int64.self)
                        let offset = chunkStart + Int64(position)
                        if batchStart >= start && markers.last.map({ $0.offset < offset }) ?? true {
                            markers.append((offset, batchStart, durableEnd))
                        }
                    }
                    position += RecordFrame.alignment
                }
            }
            guard bytes.count == count else { break }
            // Overlap chunks by one frame so a marker straddling the boundary is seen.
            chunkStart += Int64(count - frameSize + RecordFrame.alignment)
        }
        return markers
    }
}
