/// Reads the frames of one segment file sequentially through a bounded buffer.
///
/// Used by recovery and by reads. It verifies every frame's CRC, and never trusts a length
/// field further than `maxPayload` (the format's limit, so that every record a writer
/// accepted reads back) or past the end of the file: a frame is buffered only once the file
/// is known to hold all of it, so memory stays bounded by the file's size.
final class FrameReader<FS: FileSystem> {
    enum Step {
        /// A frame whose checksum is valid. `payload` is valid until the next call.
        case frame(RecordFrame.Header, offset: Int64, payload: UnsafeRawBufferPointer)
        /// No more data: the file ends exactly here, or an all-zero header starts here.
        case endOfData(offset: Int64)
        /// Bytes at `offset` are not a valid frame. `claimedEnd` is where the frame would end
        /// if its header is to be believed, or nil if the header itself is invalid.
        case invalid(offset: Int64, reason: String, claimedEnd: Int64?)
    }

    let fileSystem: FS
    let file: FS.FileHandle
    let path: String
    let salt: UInt32
    let maxPayload: Int
    let fileSize: Int64

    private var buffer: UnsafeMutableRawBufferPointer
    /// File offset of `buffer[0]`.
    private var bufferOffset: Int64
    private var bufferCount = 0
    /// Position of the next frame within the buffer.
    private var position = 0

    init(
        fileSystem: FS, file: FS.FileHandle, path: String, salt: UInt32, maxPayload: Int,
        fileSize: Int64, startOffset: Int64, bufferSize: Int
    ) {
        self.fileSystem = fileSystem
        self.file = file
        self.path = path
        self.salt = salt
        self.maxPayload = maxPayload
        self.fileSize = fileSize
        self.bufferOffset = startOffset
        self.buffer = .allocate(byteCount: max(bufferSize, 4096), alignment: 16)
    }

    deinit { buffer.deallocate() }

    /// The file offset of the next frame.
    var offset: Int64 { bufferOffset + Int64(position) }

    func next() throws(FileSystemError) -> Step {
        let start = offset
        guard start < fileSize else { return .endOfData(offset: start) }
        guard try ensure(RecordFrame.headerSize) else {
            return .invalid(offset: start, reason: "truncated frame header", claimedEnd: nil)
        }
        let base = UnsafeRawPointer(buffer.baseAddress! + position)
        switch RecordFrame.readHeader(at: base, maxPayload: maxPayload) {
        case .endOfData:
            return .endOfData(offset: start)
        case .invalid(let reason):
            return .invalid(offset: start, reason: reason, claimedEnd: nil)
        case .header(let header):
            let size = header.frameSize
            guard try ensure(size) else {
                return .invalid(offset: start, reason: "truncated frame", claimedEnd: start + Int64(size))
            }
            let frame = UnsafeRawPointer(buffer.baseAddress! + position)
            guard RecordFrame.checksumMatches(header, frame: frame, salt: salt) else {
                return .invalid(offset: start, reason: "checksum mismatch", claimedEnd: start + Int64(size))
            }
            position += size
            return .frame(
                header, offset: start,
                payload: UnsafeRawBufferPointer(start: frame + RecordFrame.headerSize, count: header.payloadCount))
        }
    }

    /// Makes at least `count` bytes available at `position`. Returns false if the file ends first.
    private func ensure(_ count: Int) throws(FileSystemError) -> Bool {
        if bufferCount - position >= count { return true }
        if offset + Int64(count) > fileSize { return false }
        let remaining = bufferCount - position
        if count > buffer.count {
            let larger = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 16)
            larger.baseAddress!.copyMemory(from: buffer.baseAddress! + position, byteCount: remaining)
            buffer.deallocate()
            buffer = larger
        } else if remaining > 0 {
            buffer.baseAddress!.copyMemory(from: buffer.baseAddress! + position, byteCount: remaining)
        }
        bufferOffset += Int64(position)
        position = 0
        bufferCount = remaining
        let wanted = min(buffer.count - remaining, Int(fileSize - bufferOffset) - remaining)
        let target = UnsafeMutableRawBufferPointer(rebasing: buffer[remaining..<(remaining + wanted)])
        let read = try fileSystem.read(from: file, at: bufferOffset + Int64(remaining), into: target)
        bufferCount += read
        return bufferCount >= count
    }
}
