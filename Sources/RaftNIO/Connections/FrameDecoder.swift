import NIOCore
import Raft

/// Splits a byte stream into `EnvelopeCodec` frames and decodes each. A frame's size is checked
/// against the limit from its first 4 bytes, before anything more is buffered.
struct FrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = DecodedFrame

    let codec: EnvelopeCodec

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        let result = buffer.withUnsafeReadableBytes { bytes -> Result<DecodedFrame?, EnvelopeCodecError> in
            Result { () throws(EnvelopeCodecError) -> DecodedFrame? in
                guard let size = try codec.frameSize(prefix: bytes), bytes.count >= size else { return nil }
                let frame = try codec.decodeFrame(UnsafeRawBufferPointer(rebasing: bytes[..<size]))
                return DecodedFrame(frame: frame, size: size)
            }
        }
        guard let decoded = try result.get() else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: decoded.size)
        context.fireChannelRead(wrapInboundOut(decoded))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws
        -> DecodingState
    {
        try decode(context: context, buffer: &buffer)
    }
}

/// A frame off the wire, with its size for the byte counters.
struct DecodedFrame {
    var frame: EnvelopeCodec.Frame
    var size: Int
}
