import struct RaftCore.SplitMix64
import RaftSimulation
import Testing
import WAL

@Suite struct CRC32CTests {
    @Test func knownCheckValue() {
        // The standard check value of CRC-32C (iSCSI) for the ASCII digits 1 to 9.
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8]()) == 0)
        // RFC 3720 B.4: 32 bytes of zeros, and 32 bytes of 0xFF.
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
    }

    @Test func hardwareAndSoftwareAgreeOnEveryLengthAndAlignment() {
        var generator = SplitMix64(seed: 7)
        let buffer = (0..<(3 * 8192 * 2 + 100)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        buffer.withUnsafeBytes { raw in
            // Lengths that cross the three-stream block sizes (256 and 8192 bytes per stream).
            for length in [0, 1, 7, 8, 9, 255, 767, 768, 769, 3 * 256 * 5 + 3, 24575, 24576, 24577, 49152 + 17] {
                for start in 0..<9 {
                    let slice = UnsafeRawBufferPointer(rebasing: raw[start..<(start + length)])
                    let seed = UInt32(truncatingIfNeeded: generator.next())
                    #expect(
                        CRC32C.checksum(slice, extending: seed) == CRC32C.softwareChecksum(slice, extending: seed),
                        "length \(length), offset \(start)")
                }
            }
        }
    }

    @Test func extendingIsConcatenation() {
        let a = Array("hello, ".utf8)
        let b = Array("world".utf8)
        #expect(CRC32C.checksum(b, extending: CRC32C.checksum(a)) == CRC32C.checksum(a + b))
    }

    @Test func aSaltChangesTheChecksum() {
        let data = Array("same bytes".utf8)
        #expect(CRC32C.checksum(data, extending: 1) != CRC32C.checksum(data, extending: 2))
    }
}
