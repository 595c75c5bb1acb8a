/// The small `wal.meta` file that records the log's extent: its first index (raised by
/// `truncatePrefix`) and the sequence of the newest segment ever created (recorded each time
/// a segment is created). With both, a missing first or last segment is corruption, not a
/// shorter log.
///
/// Byte layout, version 2 (40 bytes, little-endian): magic `SRAFTMET` (8), version 2 (4),
/// reserved zero (4), first index (8), last segment sequence (8), reserved zero (4),
/// CRC32C of bytes 0..<36 (4). Version 1 (32 bytes: magic, version 1, reserved zero, first
/// index, reserved zero, CRC32C of bytes 0..<28) is still read; it records no sequence.
///
/// It is replaced atomically: written to `wal.meta.tmp`, synced, renamed, and the directory
/// synced. A segment's sequence is recorded only once the segment is durable, so a crash in
/// between leaves a newer segment than recorded, never an older one.
struct LogMetadata: Equatable {
    static let fileName = "wal.meta"
    static let temporaryName = fileName + ".tmp"
    /// The metadata a rollover will install, made ready by ``SegmentPreparer``.
    static let preparedName = fileName + SegmentName.preparedSuffix
    static let size = 40
    static let version1Size = 32
    static let magic: UInt64 = 0x5445_4D54_4641_5253  // "SRAFTMET" read little-endian

    var firstIndex: UInt64
    /// The sequence of the newest segment created; 0 if none is recorded (version 1).
    var lastSequence: UInt64

    var encoded: [UInt8] {
        var bytes = [UInt8](repeating: 0, count: Self.size)
        bytes.withUnsafeMutableBytes { raw in
            let base = raw.baseAddress!
            base.storeLittleEndian(Self.magic, at: 0)
            base.storeLittleEndian(UInt32(2), at: 8)
            base.storeLittleEndian(firstIndex, at: 16)
            base.storeLittleEndian(lastSequence, at: 24)
            base.storeLittleEndian(CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[0..<36])), at: 36)
        }
        return bytes
    }

    static func decode(_ bytes: [UInt8]) -> LogMetadata? {
        bytes.withUnsafeBytes { raw -> LogMetadata? in
            guard raw.count >= 16, let base = raw.baseAddress,
                base.loadLittleEndian(at: 0, as: UInt64.self) == magic,
                base.loadLittleEndian(at: 12, as: UInt32.self) == 0
            else { return nil }
            let version = base.loadLittleEndian(at: 8, as: UInt32.self)
            let crcOffset: Int
            var lastSequence: UInt64 = 0
            switch (version, raw.count) {
            case (1, version1Size):
                crcOffset = 28
            case (2, size):
                crcOffset = 36
                lastSequence = base.loadLittleEndian(at: 24, as: UInt64.self)
                guard lastSequence <= SegmentHeader.maxValue else { return nil }
            default:
                return nil
            }
            guard base.loadLittleEndian(at: crcOffset - 4, as: UInt32.self) == 0,
                CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[0..<crcOffset]))
                    == base.loadLittleEndian(at: crcOffset, as: UInt32.self)
            else { return nil }
            let firstIndex = base.loadLittleEndian(at: 16, as: UInt64.self)
            guard (1...SegmentHeader.maxValue).contains(firstIndex) else { return nil }
            return LogMetadata(firstIndex: firstIndex, lastSequence: lastSequence)
        }
    }

    /// Replaces `wal.meta` in `directory` durably and atomically.
    func write<FS: FileSystem>(fileSystem: FS, directory: String) throws(WALError) {
        let temporary = directory + "/" + Self.temporaryName
        do throws(FileSystemError) {
            do {
                try fileSystem.removeFile(temporary)
            } catch where error.code == .notFound {}
            let file = try fileSystem.openFile(temporary, mode: .createNew)
            defer { fileSystem.closeFile(file) }
            try fileSystem.write(encoded, to: file, at: 0)
            try fileSystem.synchronize(file)
            try fileSystem.rename(temporary, to: directory + "/" + Self.fileName)
            try fileSystem.synchronizeDirectory(directory)
        } catch {
            throw WALError(error)
        }
    }
}
