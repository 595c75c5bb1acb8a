import PropertyBased
import Raft
import RaftCore
import Testing
import WAL

/// The wire format: random envelopes round-trip, and no damaged, truncated, oversized or
/// foreign frame is accepted or traps the decoder.
@Suite struct EnvelopeCodecTests {
    let codec = EnvelopeCodec()

    /// Genes from which ``EnvelopeGenes/envelope`` builds an envelope: shrinking the genes
    /// shrinks the envelope.
    static let genes = Gen.uint64().array(of: 0...80)

    @Test func randomEnvelopesRoundTripByteForByte() async {
        await propertyCheck(count: 400, input: Self.genes) { genes in
            let envelope = EnvelopeGenes.envelope(genes)
            do throws(EnvelopeCodecError) {
                let frame = try codec.encode(envelope)
                #expect(frame.count == EnvelopeCodec.frameSize(of: envelope))
                let decoded = try codec.decode(frame)
                #expect(decoded == envelope)
                #expect(try codec.encode(decoded) == frame, "one envelope, one byte string")
            } catch {
                Issue.record("\(envelope) did not round-trip: \(error)")
            }
        }
    }

    @Test func framesAppendedBackToBackSplitAtTheirAnnouncedSizes() throws {
        let envelopes = (0..<20).map { EnvelopeGenes.envelope(seed: UInt64($0)) }
        var stream: [UInt8] = []
        for envelope in envelopes { try codec.encode(envelope, appendingTo: &stream) }
        var decoded: [Envelope] = []
        var offset = 0
        try stream.withUnsafeBytes { bytes in
            while offset < bytes.count {
                let size = try #require(try codec.frameSize(prefix: UnsafeRawBufferPointer(rebasing: bytes[offset...])))
                decoded.append(try codec.decode(UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + size])))
                offset += size
            }
        }
        #expect(decoded == envelopes)
    }

    @Test func everyTruncationOfAValidFrameIsRefused() throws {
        for seed in 0..<24 {
            let frame = try codec.encode(EnvelopeGenes.envelope(seed: UInt64(seed)))
            for length in 0..<frame.count {
                #expect(throws: EnvelopeCodecError.self) { try codec.decode(Array(frame[..<length])) }
            }
        }
    }

    @Test func everySingleByteChangeOfAValidFrameIsRefused() throws {
        for seed in 0..<24 {
            let frame = try codec.encode(EnvelopeGenes.envelope(seed: UInt64(seed)))
            for position in frame.indices {
                for mask: UInt8 in [0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0xFF, 0x5A] {
                    var damaged = frame
                    damaged[position] ^= mask
                    #expect(throws: EnvelopeCodecError.self, "byte \(position) ^ \(mask)") { try codec.decode(damaged) }
                }
            }
        }
    }

    /// The checksum stops random damage before the payload decoder sees it; these frames carry
    /// a valid checksum around damaged payloads, so the payload decoder itself meets garbage.
    /// Whatever it accepts must be canonical: re-encoding gives back the same bytes.
    @Test func damagedPayloadsInValidFramesAreRefusedOrCanonical() throws {
        var random = SplitMix64(seed: 0xC0DEC)
        for seed in 0..<60 {
            let frame = try codec.encode(EnvelopeGenes.envelope(seed: UInt64(seed)))
            let kind = frame[5]
            let payload = Array(frame[EnvelopeCodec.headerSize..<frame.count - EnvelopeCodec.checksumSize])
            var candidates: [[UInt8]] = (0..<payload.count).map { Array(payload[..<$0]) }
            for position in payload.indices {
                var damaged = payload
                damaged[position] ^= UInt8(truncatingIfNeeded: random.next() | 1)
                candidates.append(damaged)
            }
            for _ in 0..<50 {
                candidates.append((0..<Int(random.next() % 200)).map { _ in UInt8(truncatingIfNeeded: random.next()) })
            }
            for candidate in candidates {
                let reframed = Self.frame(kind: kind, payload: candidate)
                if let accepted = try? codec.decode(reframed) {
                    #expect(try codec.encode(accepted) == reframed, "accepted a frame that is not canonical")
                }
            }
        }
    }

    @Test func randomBytesNeverDecode() {
        var random = SplitMix64(seed: 0xF022)
        for _ in 0..<20_000 {
            let bytes = (0..<Int(random.next() % 300)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            #expect(throws: EnvelopeCodecError.self) { try codec.decode(bytes) }
        }
    }

    @Test func aFrameOverTheLimitIsRefusedFromItsFirstFourBytes() throws {
        let small = EnvelopeCodec(maxFrameSize: 1024)
        let big = Envelope.raft(Message(kind: .append, from: 1, to: 2, term: 1, entries: [Entry(term: 1, index: 1, data: Array(repeating: 7, count: 2000))]))
        #expect(throws: EnvelopeCodecError.frameTooLarge(size: EnvelopeCodec.frameSize(of: big), limit: 1024)) {
            try small.encode(big)
        }
        let frame = try codec.encode(big)
        #expect(throws: EnvelopeCodecError.frameTooLarge(size: frame.count, limit: 1024)) {
            try frame.withUnsafeBytes { bytes in try small.frameSize(prefix: UnsafeRawBufferPointer(rebasing: bytes[..<4])) }
        }
        #expect(throws: EnvelopeCodecError.frameTooLarge(size: frame.count, limit: 1024)) { try small.decode(frame) }
        #expect(try frame.withUnsafeBytes { try codec.frameSize(prefix: UnsafeRawBufferPointer(rebasing: $0[..<3])) } == nil)
    }

    @Test func unknownVersionsAndKindsAreTypedErrors() throws {
        var frame = try codec.encode(.snapshotAck(SnapshotAck(from: 2, to: 1, term: 3, snapshotIndex: 9, nextOffset: 0, rejected: false)))
        frame[4] = 2
        #expect(throws: EnvelopeCodecError.unsupportedVersion(2)) { try codec.decode(Self.resealed(frame)) }
        #expect(throws: EnvelopeCodecError.unknownFrameKind(4)) { try codec.decode(Self.frame(kind: 4, payload: [])) }
        #expect(throws: EnvelopeCodecError.unknownFrameKind(0x80)) { try codec.decode(Self.frame(kind: 0x80, payload: [1])) }
    }

    /// The documented layout, pinned: a change to it must be a new protocol version.
    @Test func theAckLayoutIsTheDocumentedOne() throws {
        let ack = SnapshotAck(from: 2, to: 1, term: 0x0102, snapshotIndex: 0x0A0B, nextOffset: 0x10_0000, rejected: true)
        let frame = try codec.encode(.snapshotAck(ack))
        let le: (UInt64) -> [UInt8] = { value in (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
        var expected: [UInt8] = [47, 0, 0, 0, 1, 3]
        expected += le(2) + le(1) + le(0x0102) + le(0x0A0B) + le(0x10_0000) + [1]
        let crc = CRC32C.checksum(expected)
        expected += (0..<4).map { UInt8(truncatingIfNeeded: crc >> (8 * $0)) }
        #expect(frame == expected)
    }

    @Test func theMessageLayoutIsTheDocumentedOne() throws {
        let message = Message(
            kind: .heartbeat, from: 3, to: 4, term: 5, logTerm: 6, index: 7, commit: 8, reject: true, rejectHint: 9,
            context: 10, readContext: [0xAA], isLeadershipTransfer: true)
        let frame = try codec.encode(.raft(message))
        #expect(frame[5] == 1)
        #expect(frame[6] == 2, "heartbeat is code 2")
        #expect(frame[7] == 0b011, "reject and leadership-transfer flags")
        for (field, value) in [3, 4, 5, 6, 7, 8, 9, 10].enumerated() {
            #expect(frame[8 + 8 * field] == UInt8(value), "field \(field)")
        }
        #expect(Array(frame[72..<77]) == [1, 0, 0, 0, 0xAA], "read context")
        #expect(Array(frame[77..<81]) == [0, 0, 0, 0], "no entries")
        #expect(frame.count == 81 + EnvelopeCodec.checksumSize)
    }

    /// A frame around `payload` with a valid checksum.
    static func frame(kind: UInt8, payload: [UInt8]) -> [UInt8] {
        let length = UInt32(EnvelopeCodec.minimumFrameSize - 4 + payload.count)
        var bytes = (0..<4).map { UInt8(truncatingIfNeeded: length >> (8 * $0)) } + [EnvelopeCodec.version, kind] + payload
        let crc = CRC32C.checksum(bytes)
        bytes += (0..<4).map { UInt8(truncatingIfNeeded: crc >> (8 * $0)) }
        return bytes
    }

    /// `frame` with its checksum recomputed after an edit.
    static func resealed(_ frame: [UInt8]) -> [UInt8] {
        var bytes = Array(frame.dropLast(EnvelopeCodec.checksumSize))
        let crc = CRC32C.checksum(bytes)
        bytes += (0..<4).map { UInt8(truncatingIfNeeded: crc >> (8 * $0)) }
        return bytes
    }
}

/// Builds an envelope from a list of numbers, reading 0 once they run out, so that every
/// field and every kind of envelope is reachable and a shorter list makes a simpler envelope.
struct EnvelopeGenes {
    private var genes: [UInt64]
    private var position = 0

    private init(_ genes: [UInt64]) {
        self.genes = genes
    }

    static func envelope(_ genes: [UInt64]) -> Envelope {
        var builder = EnvelopeGenes(genes)
        return builder.build()
    }

    /// An envelope from `20 + seed % 60` random genes.
    static func envelope(seed: UInt64) -> Envelope {
        var random = SplitMix64(seed: seed)
        return envelope((0..<(20 + Int(seed % 60))).map { _ in random.next() })
    }

    private mutating func next() -> UInt64 {
        defer { position += 1 }
        return position < genes.count ? genes[position] : 0
    }

    private mutating func small(_ bound: UInt64) -> Int { Int(next() % bound) }

    private mutating func bytes(upTo bound: UInt64) -> [UInt8] {
        (0..<small(bound)).map { _ in UInt8(truncatingIfNeeded: next()) }
    }

    private mutating func members() -> Set<NodeID> {
        Set((0..<small(6)).map { _ in next() % 1000 + 1 })
    }

    private mutating func message() -> Message {
        let kinds: [MessageKind] = [
            .append, .appendResponse, .heartbeat, .heartbeatResponse, .vote, .voteResponse, .preVote,
            .preVoteResponse, .snapshot, .timeoutNow, .readIndex, .readIndexResponse,
        ]
        var message = Message(kind: kinds[small(UInt64(kinds.count))], from: next(), to: next(), term: next())
        message.logTerm = next()
        message.index = next()
        message.commit = next()
        message.reject = next() % 2 == 1
        message.rejectHint = next()
        message.context = next()
        message.readContext = bytes(upTo: 20)
        message.isLeadershipTransfer = next() % 2 == 1
        message.entries = (0..<small(5)).map { _ in
            Entry(term: next(), index: next(), kind: next() % 3 == 0 ? .configChange : .normal, data: bytes(upTo: 40))
        }
        if next() % 2 == 1 {
            message.snapshot = SnapshotMetadata(
                index: next(), term: next(),
                configuration: Configuration(voters: members(), outgoingVoters: members(), learners: members()))
        }
        return message
    }

    private mutating func build() -> Envelope {
        switch next() % 3 {
        case 0:
            return .raft(message())
        case 1:
            let message = message()
            let chunk = SnapshotChunk(
                offset: Int64(bitPattern: next()), bytes: bytes(upTo: 100), checksum: UInt32(truncatingIfNeeded: next()),
                isLast: next() % 2 == 1)
            return .snapshotChunk(SnapshotChunkMessage(message: message, fileSize: Int64(bitPattern: next()), chunk: chunk))
        default:
            return .snapshotAck(
                SnapshotAck(
                    from: next(), to: next(), term: next(), snapshotIndex: next(), nextOffset: Int64(bitPattern: next()),
                    rejected: next() % 2 == 1))
        }
    }
}
