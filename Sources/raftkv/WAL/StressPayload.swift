/// The payload `wal stress` writes at each index: a pure function of the index, so that any
/// record can be checked later without knowing how it was written. The first eight bytes
/// hold the index; the rest repeat a word mixed from it. Cheap enough to build a million a
/// second, and distinct for every index.
enum StressPayload {
    static func make(index: UInt64, size: Int) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            fill(UnsafeMutableRawBufferPointer(buffer), index: index)
            count = size
        }
    }

    static func matches(_ payload: [UInt8], index: UInt64) -> Bool {
        var expected = [UInt8](repeating: 0, count: payload.count)
        expected.withUnsafeMutableBytes { fill($0, index: index) }
        return expected == payload
    }

    private static func fill(_ buffer: UnsafeMutableRawBufferPointer, index: UInt64) {
        var z = index &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        let base = buffer.baseAddress!
        let words = buffer.count / 8
        if words > 0 { base.storeBytes(of: index.littleEndian, as: UInt64.self) }
        for word in 1..<max(words, 1) {
            base.storeBytes(of: z.littleEndian, toByteOffset: word * 8, as: UInt64.self)
        }
        withUnsafeBytes(of: (words == 0 ? index : z).littleEndian) { bytes in
            for position in (words * 8)..<buffer.count { base.storeBytes(of: bytes[position % 8], toByteOffset: position, as: UInt8.self) }
        }
    }
}
