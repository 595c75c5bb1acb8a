/// The random 128-bit identity of a cluster, created when the cluster is founded and kept
/// in its durable state. Every connection names it in its handshake, so nodes of two
/// clusters never exchange messages even if they share addresses or a secret.
public struct ClusterID: Sendable, Hashable, CustomStringConvertible {
    /// The 16 bytes, in wire order.
    public let bytes: [UInt8]

    /// The id made of `bytes`, or nil unless there are exactly 16.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    /// The id spelled as 32 hexadecimal digits, or nil if `hex` is not that.
    public init?(hex: String) {
        let digits = Array(hex.utf8)
        guard digits.count == 32 else { return nil }
        var bytes: [UInt8] = []
        for pair in stride(from: 0, to: 32, by: 2) {
            guard let high = Self.nibble(digits[pair]), let low = Self.nibble(digits[pair + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        self.bytes = bytes
    }

    /// A new id from the system's random number generator, for founding a cluster.
    public static func random() -> ClusterID {
        var generator = SystemRandomNumberGenerator()
        return ClusterID(bytes: (0..<16).map { _ in generator.next() })!
    }

    /// The 32 hexadecimal digits.
    public var description: String {
        bytes.map { byte in
            let digits = Array("0123456789abcdef")
            return String([digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
        }.joined()
    }

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
