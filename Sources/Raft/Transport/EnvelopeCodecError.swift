/// Why bytes from the network are not a valid frame. Decoding never traps: every way a frame
/// can be damaged, cut short, oversized or from a newer protocol is one of these.
public enum EnvelopeCodecError: Error, Sendable, Hashable {
    /// The bytes end before the frame or one of its fields does.
    case truncated
    /// The length field announces a frame below the smallest possible one.
    case frameTooSmall(length: Int)
    /// The frame (or an envelope being encoded) is larger than the configured maximum.
    case frameTooLarge(size: Int, limit: Int)
    /// The frame was written by a protocol version this codec does not speak.
    case unsupportedVersion(UInt8)
    /// The frame's kind byte names no known frame.
    case unknownFrameKind(UInt8)
    /// The frame's CRC32C does not match its bytes: damage in transit.
    case checksumMismatch(stored: UInt32, computed: UInt32)
    /// A message's kind byte names no known message kind.
    case unknownMessageKind(UInt8)
    /// An entry's kind byte names no known entry kind.
    case unknownEntryKind(UInt8)
    /// A flags byte sets bits this version does not define, or a boolean byte is neither 0 nor 1.
    case invalidFlags(UInt8)
    /// A configuration's member list is not strictly ascending (duplicates or disorder).
    case invalidConfiguration
    /// A count or length field asks for more bytes than the frame holds.
    case lengthOutOfRange(Int)
    /// The payload is followed by bytes no field accounts for.
    case trailingBytes(Int)
    /// The byte count passed to `decode` is not exactly one frame.
    case frameSizeMismatch(expected: Int, actual: Int)
}
