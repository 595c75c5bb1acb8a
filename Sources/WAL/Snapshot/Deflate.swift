import CZlib

/// Compresses one snapshot block with zlib into a ready-to-write frame.
///
/// Each block is a raw DEFLATE stream (no zlib header or Adler-32: the frame's CRC32C
/// already covers the stored bytes), compressed on its own so blocks can be compressed on
/// several cores at once and a transfer can resume at any block.
enum Deflate {
    /// A block encoded for the file: its 16-byte frame followed by the stored payload.
    struct EncodedBlock: Sendable {
        var bytes: [UInt8]
        var checksum: UInt32
        var uncompressedCount: Int
    }

    /// Encodes `input` as block number `ordinal`. The payload is compressed at `level`
    /// (0...9), or stored raw when compression would not make it smaller.
    static func encodeBlock(_ input: ArraySlice<UInt8>, ordinal: UInt64, level: Int32) -> EncodedBlock {
        precondition(!input.isEmpty && input.count <= SnapshotFormat.maxBlockSize, "the writer bounds blocks")
        let frameSize = SnapshotFormat.blockFrameSize
        var compressedCount = 0
        var bytes = [UInt8](unsafeUninitializedCapacity: frameSize + input.count) { buffer, initialized in
            let payload = UnsafeMutableRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(buffer)[frameSize...])
            // Limiting the output to one byte less than the input makes deflate stop with
            // Z_OK or Z_BUF_ERROR exactly when the block would not shrink.
            compressedCount = input.withUnsafeBytes { source in
                compress(source, into: UnsafeMutableRawBufferPointer(rebasing: payload[0..<(input.count - 1)]), level: level)
            } ?? 0
            if compressedCount == 0 {
                input.withUnsafeBytes { payload.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: input.count) }
            }
            initialized = frameSize + (compressedCount == 0 ? input.count : compressedCount)
        }
        let isRaw = compressedCount == 0
        let checksum = bytes.withUnsafeMutableBytes { raw -> UInt32 in
            let base = raw.baseAddress!
            base.storeLittleEndian(UInt32(raw.count - frameSize), at: 0)
            base.storeLittleEndian(UInt32(input.count), at: 4)
            base.storeLittleEndian(isRaw ? SnapshotFormat.rawFlag : 0, at: 8)
            let crc = SnapshotFormat.blockChecksum(
                frame: UnsafeRawBufferPointer(rebasing: raw[0..<frameSize]),
                payload: UnsafeRawBufferPointer(rebasing: raw[frameSize...]), ordinal: ordinal)
            base.storeLittleEndian(crc, at: 12)
            return crc
        }
        return EncodedBlock(bytes: bytes, checksum: checksum, uncompressedCount: input.count)
    }

    /// Compresses `source` into `destination` as one raw DEFLATE stream. Returns the
    /// compressed size, or nil if it does not fit.
    private static func compress(
        _ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer, level: Int32
    ) -> Int? {
        guard destination.count > 0 else { return nil }
        var stream = z_stream()
        // windowBits -15: a raw DEFLATE stream with a 32 KiB window.
        let status = deflateInit2_(
            &stream, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        // Init fails only when zlib cannot allocate its state; storing raw is always correct.
        guard status == Z_OK else { return nil }
        defer { deflateEnd(&stream) }
        stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress!.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = uInt(source.count)
        stream.next_out = destination.baseAddress!.assumingMemoryBound(to: Bytef.self)
        stream.avail_out = uInt(destination.count)
        guard deflate(&stream, Z_FINISH) == Z_STREAM_END else { return nil }
        return Int(stream.total_out)
    }
}
