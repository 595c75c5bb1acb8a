import CZlib

/// Decompresses one snapshot block, after its CRC has been checked.
enum Inflate {
    /// Inflates a raw DEFLATE `payload` that must expand to exactly `count` bytes. Returns
    /// nil if it does not: damage the CRC did not catch, which the caller reports as
    /// corruption of the block.
    static func decompress(_ payload: UnsafeRawBufferPointer, count: Int) -> [UInt8]? {
        guard count > 0, payload.count > 0 else { return nil }
        var failed = false
        let output = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            var stream = z_stream()
            guard inflateInit2_(&stream, -15, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
                failed = true
                initialized = 0
                return
            }
            defer { inflateEnd(&stream) }
            stream.next_in = UnsafeMutablePointer(mutating: payload.baseAddress!.assumingMemoryBound(to: Bytef.self))
            stream.avail_in = uInt(payload.count)
            stream.next_out = buffer.baseAddress!
            stream.avail_out = uInt(count)
            let status = inflate(&stream, Z_FINISH)
            // The stream must end exactly where the payload and the output both end.
            failed = status != Z_STREAM_END || stream.avail_in != 0 || stream.avail_out != 0
            initialized = failed ? 0 : count
        }
        return failed ? nil : output
    }
}
