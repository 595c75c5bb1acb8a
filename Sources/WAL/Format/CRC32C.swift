import CCRC32C

/// CRC32C (Castagnoli), computed with the SSE4.2 instruction when the CPU has it.
public enum CRC32C {
    /// Extends `crc` over `bytes`. Start from 0, or from a salt to bind a checksum to a file.
    public static func checksum(_ bytes: UnsafeRawBufferPointer, extending crc: UInt32 = 0) -> UInt32 {
        guard let base = bytes.baseAddress else { return crc }
        return crc32c_extend(crc, base, bytes.count)
    }

    /// Extends `crc` over a byte array.
    public static func checksum(_ bytes: [UInt8], extending crc: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0, extending: crc) }
    }

    /// The portable software implementation, for comparing against the hardware path.
    public static func softwareChecksum(_ bytes: UnsafeRawBufferPointer, extending crc: UInt32 = 0)
        -> UInt32
    {
        guard let base = bytes.baseAddress else { return crc }
        return crc32c_extend_software(crc, base, bytes.count)
    }

    /// Whether `checksum` uses the hardware instruction on this CPU.
    public static var isHardwareAccelerated: Bool { crc32c_hardware_available() != 0 }
}
