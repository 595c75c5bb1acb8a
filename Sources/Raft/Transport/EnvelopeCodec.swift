import WAL

/// The wire format of envelopes: one versioned, checksummed frame per envelope.
///
/// Every byte that crosses the network between nodes is in a frame; a transport writes frames
/// back to back on a stream and reads them with ``frameSize(prefix:)`` and ``decode(_:)-(UnsafeRawBufferPointer)``.
/// The simulator passes every envelope it delivers through this codec, so a codec bug
/// becomes a simulation failure with a seed.
///
/// ## Frame layout (version 1)
///
/// All integers are little-endian.
///
/// | Offset      | Size | Field                                                        |
/// |-------------|------|--------------------------------------------------------------|
/// | 0           | 4    | `length`: `UInt32`, the bytes that follow this field          |
/// | 4           | 1    | `version`: `UInt8`, ``version`` (1)                           |
/// | 5           | 1    | `kind`: `UInt8`, see below                                    |
/// | 6           | n    | payload, `length - 6` bytes                                   |
/// | 6 + n       | 4    | CRC32C of bytes `0 ..< 6 + n` (length, version, kind, payload) |
///
/// A frame is `4 + length` bytes. `length` is at least 6 (an empty payload); a frame over
/// ``maxFrameSize`` is refused as soon as its first 4 bytes arrive, before a reader buffers it.
///
/// Kinds: 1 a Raft message (``Envelope/raft(_:)``), 2 a snapshot chunk
/// (``Envelope/snapshotChunk(_:)``), 3 a snapshot acknowledgement (``Envelope/snapshotAck(_:)``).
/// Kinds 0x80–0xFF are control frames of the transport (its handshake and keepalives): the codec
/// checks their framing and checksum and hands their payload over uninterpreted.
///
/// The payload of each kind is documented with its encoder: ``encodeMessage(_:into:)``,
/// ``encodeChunk(_:into:)``, ``encodeAck(_:into:)``.
public struct EnvelopeCodec: Sendable {
    /// The protocol version this codec writes and the only one it reads.
    public static let version: UInt8 = 1
    /// The length field, version and kind.
    public static let headerSize = 6
    /// The trailing CRC32C.
    public static let checksumSize = 4
    /// A frame with an empty payload.
    public static let minimumFrameSize = headerSize + checksumSize
    /// 8 MiB: above the largest append the core emits with default options
    /// (`RaftOptions.maxMessageBytes`, 1 MiB, plus one entry) and a 1 MiB snapshot chunk.
    public static let defaultMaxFrameSize = 8 << 20
    /// The first kind byte reserved for a transport's control frames.
    package static let firstControlKind: UInt8 = 0x80

    enum FrameKind: UInt8 {
        case raft = 1
        case snapshotChunk = 2
        case snapshotAck = 3
    }

    /// The largest frame, in bytes, that ``encode(_:)`` writes and ``decode(_:)-(UnsafeRawBufferPointer)``
    /// and ``frameSize(prefix:)`` accept.
    public var maxFrameSize: Int

    /// Creates a codec.
    /// - Parameter maxFrameSize: The largest frame accepted or written, at least
    ///   ``minimumFrameSize``.
    public init(maxFrameSize: Int = EnvelopeCodec.defaultMaxFrameSize) {
        self.maxFrameSize = max(Self.minimumFrameSize, maxFrameSize)
    }

    // MARK: Encoding

    /// The frame carrying `envelope`.
    /// - Throws: ``EnvelopeCodecError/frameTooLarge(size:limit:)`` if it exceeds ``maxFrameSize``.
    public func encode(_ envelope: Envelope) throws(EnvelopeCodecError) -> [UInt8] {
        var bytes: [UInt8] = []
        try encode(envelope, appendingTo: &bytes)
        return bytes
    }

    /// Appends the frame carrying `envelope` to `bytes`, so a transport can batch many frames
    /// into one write. On error `bytes` is unchanged.
    /// - Throws: ``EnvelopeCodecError/frameTooLarge(size:limit:)`` if it exceeds ``maxFrameSize``.
    public func encode(_ envelope: Envelope, appendingTo bytes: inout [UInt8]) throws(EnvelopeCodecError) {
        let size = Self.frameSize(of: envelope)
        guard size <= maxFrameSize else { throw .frameTooLarge(size: size, limit: maxFrameSize) }
        let start = bytes.count
        bytes.reserveCapacity(start + size)
        var writer = Writer(bytes: bytes)
        bytes = []
        switch envelope {
        case .raft(let message):
            Self.writeHeader(size: size, kind: FrameKind.raft.rawValue, into: &writer)
            Self.encodeMessage(message, into: &writer)
        case .snapshotChunk(let chunk):
            Self.writeHeader(size: size, kind: FrameKind.snapshotChunk.rawValue, into: &writer)
            Self.encodeChunk(chunk, into: &writer)
        case .snapshotAck(let ack):
            Self.writeHeader(size: size, kind: FrameKind.snapshotAck.rawValue, into: &writer)
            Self.encodeAck(ack, into: &writer)
        }
        Self.writeChecksum(from: start, into: &writer)
        bytes = writer.bytes
    }

    /// Appends a transport control frame (kind 0x80–0xFF) with an opaque payload.
    package func encodeControl(kind: UInt8, payload: [UInt8], appendingTo bytes: inout [UInt8]) {
        precondition(kind >= Self.firstControlKind, "kinds below 0x80 are envelopes")
        let start = bytes.count
        var writer = Writer(bytes: bytes)
        bytes = []
        Self.writeHeader(size: Self.minimumFrameSize + payload.count, kind: kind, into: &writer)
        writer.bytes.append(contentsOf: payload)
        Self.writeChecksum(from: start, into: &writer)
        bytes = writer.bytes
    }

    /// The size of the frame that carries `envelope`, without encoding it.
    public static func frameSize(of envelope: Envelope) -> Int {
        let payload =
            switch envelope {
            case .raft(let message): messageSize(message)
            case .snapshotChunk(let chunk): messageSize(chunk.message) + chunkTailSize + chunk.chunk.bytes.count
            case .snapshotAck: ackSize
            }
        return minimumFrameSize + payload
    }

    private static func writeHeader(size: Int, kind: UInt8, into writer: inout Writer) {
        writer.write(UInt32(size - 4))
        writer.write(version)
        writer.write(kind)
    }

    private static func writeChecksum(from start: Int, into writer: inout Writer) {
        let crc = writer.bytes.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[start...])) }
        writer.write(crc)
    }

    // MARK: Decoding

    /// The size of the frame that starts with `prefix`, once its first 4 bytes are there: a
    /// reader calls it before buffering the rest, so an oversized frame is refused up front.
    /// - Returns: The frame's total size, or nil if `prefix` is shorter than 4 bytes.
    /// - Throws: ``EnvelopeCodecError/frameTooSmall(length:)`` or
    ///   ``EnvelopeCodecError/frameTooLarge(size:limit:)``.
    public func frameSize(prefix: UnsafeRawBufferPointer) throws(EnvelopeCodecError) -> Int? {
        guard prefix.count >= 4 else { return nil }
        let length = Int(UInt32(littleEndian: prefix.loadUnaligned(as: UInt32.self)))
        guard length >= Self.minimumFrameSize - 4 else { throw .frameTooSmall(length: length) }
        let size = 4 + length
        guard size <= maxFrameSize else { throw .frameTooLarge(size: size, limit: maxFrameSize) }
        return size
    }

    /// Decodes one frame holding an envelope; `frame` must be exactly one frame.
    /// - Throws: An ``EnvelopeCodecError`` for every malformed, truncated, oversized, damaged or
    ///   unknown-version frame, and for a control frame.
    public func decode(_ frame: UnsafeRawBufferPointer) throws(EnvelopeCodecError) -> Envelope {
        switch try decodeFrame(frame) {
        case .envelope(let envelope): envelope
        case .control(let kind, _): throw .unknownFrameKind(kind)
        }
    }

    /// Decodes one frame holding an envelope; see ``decode(_:)-(UnsafeRawBufferPointer)``.
    public func decode(_ frame: [UInt8]) throws(EnvelopeCodecError) -> Envelope {
        let result = frame.withUnsafeBytes { bytes in
            Result { () throws(EnvelopeCodecError) in try decode(bytes) }
        }
        return try result.get()
    }

    /// A decoded frame: an envelope, or a transport's control frame.
    package enum Frame: Sendable, Hashable {
        case envelope(Envelope)
        case control(kind: UInt8, payload: [UInt8])
    }

    /// Decodes one frame of any kind; `frame` must be exactly one frame.
    package func decodeFrame(_ frame: UnsafeRawBufferPointer) throws(EnvelopeCodecError) -> Frame {
        guard let size = try frameSize(prefix: frame) else { throw .truncated }
        guard size == frame.count else {
            if frame.count < size { throw .truncated }
            throw .frameSizeMismatch(expected: size, actual: frame.count)
        }
        // The version first: a newer peer's frame is reported as such even if that version
        // checksums differently.
        guard frame[4] == Self.version else { throw .unsupportedVersion(frame[4]) }
        let payloadEnd = size - Self.checksumSize
        let stored = UInt32(littleEndian: frame.loadUnaligned(fromByteOffset: payloadEnd, as: UInt32.self))
        let computed = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: frame[..<payloadEnd]))
        guard stored == computed else { throw .checksumMismatch(stored: stored, computed: computed) }
        let kindByte = frame[5]
        var reader = Reader(UnsafeRawBufferPointer(rebasing: frame[..<payloadEnd]), offset: Self.headerSize)
        if kindByte >= Self.firstControlKind {
            return .control(kind: kindByte, payload: Array(UnsafeRawBufferPointer(rebasing: frame[Self.headerSize..<payloadEnd])))
        }
        let envelope: Envelope
        switch FrameKind(rawValue: kindByte) {
        case .raft: envelope = .raft(try Self.decodeMessage(&reader))
        case .snapshotChunk: envelope = .snapshotChunk(try Self.decodeChunk(&reader))
        case .snapshotAck: envelope = .snapshotAck(try Self.decodeAck(&reader))
        case nil: throw .unknownFrameKind(kindByte)
        }
        guard reader.remaining == 0 else { throw .trailingBytes(reader.remaining) }
        return .envelope(envelope)
    }
}
