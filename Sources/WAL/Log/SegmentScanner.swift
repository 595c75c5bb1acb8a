/// Recovers one segment file: verifies its header and every frame, and finds where its
/// committed batches end.
///
/// The torn-tail rule is structural, never a guess from byte patterns: a batch counts only
/// once its commit marker is intact and matches it. Damage may be forgiven only in the last
/// segment, and only if no intact commit marker follows it; then the damage belongs to the
/// one batch whose fdatasync never completed, which nobody was told is durable.
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
        let file: FS.FileHandle
        do { file = try fileSystem.openFile(path, mode: .readOnly) } catch { throw WALError(error) }
        defer { fileSystem.closeFile(file) }
        do {
            return try scan(file: file, path: path, name: name, expected: expected, isLast: isLast)
        } catch let error as FileSystemError {
            throw WALError(error)
        } catch let error as WALError {
            throw error
        } catch {
            preconditionFailure("unexpected error \(error)")
        }
    }

    private func scan(
        file: FS.FileHandle, path: String, name: String,
        expected: (sequence: UInt64, firstIndex: UInt64), isLast: Bool
    ) throws -> Result {
        let fileSize = try fileSystem.size(of: file)
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
            maxPayload: options.maxPayloadSize, fileSize: fileSize,
            startOffset: Int64(SegmentHeader.size), bufferSize: options.readBufferSize)
        // The batch being read: committed into `info` only when its marker checks out.
        var batchFrames: UInt32 = 0
        var batchHardState: HardState?
        var batchCheckpoints: [Int64] = []
        var nextIndex = header.firstIndex

        let damage: (offset: Int64, reason: String, truncated: Bool)
        scanning: while true {
            switch try reader.next() {
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
                    guard start == info.endOffset, count == batchFrames, frame.index == nextIndex - 1 else {
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
                damage = (
                    offset, batchFrames == 0 ? "zero bytes after the last batch" : "batch without a commit marker",
                    true
                )
                break scanning
            case .invalid(let offset, let reason, let truncated):
                damage = (offset, reason, truncated)
                break scanning
            }
        }

        guard isLast else {
            throw WALError.corruption(file: path, offset: damage.offset, reason: damage.reason)
        }
        if let marker = try committedMarker(in: file, from: info.endOffset, fileSize: fileSize, salt: header.salt) {
            throw WALError.corruption(
                file: path, offset: damage.offset,
                reason: "\(damage.reason), followed by a committed batch at byte \(marker)")
        }
        guard try tearExplains(file: file, from: damage.offset, fileSize: fileSize, truncated: damage.truncated) else {
            throw WALError.corruption(
                file: path, offset: damage.offset,
                reason: "\(damage.reason), in bytes a torn write cannot explain (every sector present)")
        }
        let torn = RecoveryReport.TornTail(
            file: path, offset: info.endOffset, droppedBytes: fileSize - info.endOffset, reason: damage.reason)
        return Result(info: info, hardState: hardState, fileSize: fileSize, tornTail: torn)
    }

    private func readHeader(file: FS.FileHandle, path: String, fileSize: Int64) throws -> SegmentHeader {
        guard fileSize >= Int64(SegmentHeader.size) else {
            throw WALError.corruption(file: path, offset: 0, reason: "file is shorter than a segment header")
        }
        let bytes = try fileSystem.read(count: SegmentHeader.size, from: file, at: 0)
        switch bytes.withUnsafeBytes({ SegmentHeader.decode($0) }) {
        case .success(let header):
            return header
        case .failure(.unsupportedVersion(let version)):
            throw WALError.unsupportedVersion(file: path, version: version)
        case .failure(let error):
            throw WALError.corruption(file: path, offset: 0, reason: "segment header: \(error)")
        }
    }

    /// Whether damage at `offset` can be the work of a torn write: the frame there runs past
    /// the end of the file, or some 512-byte sector from `offset` on reads as zeros. Files
    /// only grow by appending and space is never reused, so a sector a crash failed to write
    /// is either beyond the end of the file or a hole of zeros. Damage with every sector
    /// present — a flipped bit in the final commit marker, say — is corruption.
    private func tearExplains(file: FS.FileHandle, from offset: Int64, fileSize: Int64, truncated: Bool) throws
        -> Bool
    {
        if truncated { return true }
        let sector = Int64(512)
        var start = offset
        var buffer = [UInt8](repeating: 0, count: Int(sector))
        while start < fileSize {
            let end = min((start / sector + 1) * sector, fileSize)
            let count = Int(end - start)
            try buffer.withUnsafeMutableBytes { raw throws in
                try fileSystem.readExactly(
                    from: file, at: start, into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<count]), path: "")
            }
            if buffer[0..<count].allSatisfy({ $0 == 0 }) { return true }
            start = end
        }
        return false
    }

    /// Looks for an intact commit marker of a batch starting at or after `start`: proof that
    /// damage before it is not a torn write. Returns the marker's offset.
    private func committedMarker(in file: FS.FileHandle, from start: Int64, fileSize: Int64, salt: UInt32) throws
        -> Int64?
    {
        let frameSize = RecordFrame.frameSize(payloadCount: RecordFrame.commitPayloadSize)
        let chunk = max(options.readBufferSize, 4 * frameSize)
        var buffer = [UInt8](repeating: 0, count: chunk)
        var chunkStart = start
        while chunkStart + Int64(frameSize) <= fileSize {
            let count = min(chunk, Int(fileSize - chunkStart))
            let found = try buffer.withUnsafeMutableBytes { raw throws -> Int64? in
                let target = UnsafeMutableRawBufferPointer(rebasing: raw[0..<count])
                try fileSystem.readExactly(from: file, at: chunkStart, into: target, path: "")
                var position = 0
                while position + frameSize <= count {
                    let base = UnsafeRawPointer(raw.baseAddress! + position)
                    if case .header(let header) = RecordFrame.readHeader(at: base, maxPayload: frameSize),
                        header.type == .commit,
                        RecordFrame.checksumMatches(header, frame: base, salt: salt),
                        base.loadLittleEndian(at: RecordFrame.headerSize, as: Int64.self) >= start
                    {
                        return chunkStart + Int64(position)
                    }
                    position += RecordFrame.alignment
                }
                return nil
            }
            if let found { return found }
            // Overlap chunks by one frame so a marker straddling the boundary is seen.
            chunkStart += Int64(count - frameSize + RecordFrame.alignment)
        }
        return nil
    }
}
