extension EnvelopeCodec {
    /// Appends little-endian fixed-width fields to a byte array.
    struct Writer {
        var bytes: [UInt8]

        mutating func write<T: FixedWidthInteger>(_ value: T) {
            withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
        }

        mutating func write(_ flag: Bool) {
            bytes.append(flag ? 1 : 0)
        }

        /// A `UInt32` length, then the bytes.
        mutating func writeSized(_ data: [UInt8]) {
            write(UInt32(data.count))
            bytes.append(contentsOf: data)
        }
    }

    /// Reads little-endian fixed-width fields from untrusted bytes: every read checks the bounds
    /// and throws instead of trapping.
    struct Reader {
        let bytes: UnsafeRawBufferPointer
        var offset: Int

        init(_ bytes: UnsafeRawBufferPointer, offset: Int = 0) {
            self.bytes = bytes
            self.offset = offset
        }

        var remaining: Int { bytes.count - offset }

        mutating func read<T: FixedWidthInteger>(_: T.Type = T.self) throws(EnvelopeCodecError) -> T {
            let size = MemoryLayout<T>.size
            guard remaining >= size else { throw .truncated }
            let value = bytes.loadUnaligned(fromByteOffset: offset, as: T.self)
            offset += size
            return T(littleEndian: value)
        }

        mutating func readBool() throws(EnvelopeCodecError) -> Bool {
            let byte: UInt8 = try read()
            guard byte <= 1 else { throw .invalidFlags(byte) }
            return byte == 1
        }

        /// A count of items that take at least `minimumItemSize` bytes each, bounded by
        /// what is left, so a damaged count cannot make the decoder reserve gigabytes.
        mutating func readCount(minimumItemSize: Int) throws(EnvelopeCodecError) -> Int {
            let count = Int(try read(UInt32.self))
            guard count <= remaining / minimumItemSize else { throw .lengthOutOfRange(count) }
            return count
        }

        /// A `UInt32` length, then that many bytes.
        mutating func readSized() throws(EnvelopeCodecError) -> [UInt8] {
            let count = try readCount(minimumItemSize: 1)
            defer { offset += count }
            return Array(UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + count]))
        }
    }
}
