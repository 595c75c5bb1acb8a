import RaftCore
import WAL

// The payload of each frame kind, version 1. Integers are little-endian; `bool` is one byte,
// 0 or 1; `bytes` is a `UInt32` count followed by that many bytes.
extension EnvelopeCodec {
    // MARK: Raft messages (frame kind 1)

    /// The fixed part of a message: kind, flags, eight `UInt64` fields, and the two counts.
    static let messageFixedSize = 2 + 8 * 8 + 4 + 4
    /// An entry without its data: term, index, kind, data count.
    static let entryFixedSize = 8 + 8 + 1 + 4
    private static let rejectFlag: UInt8 = 1 << 0
    private static let leadershipTransferFlag: UInt8 = 1 << 1
    private static let snapshotFlag: UInt8 = 1 << 2
    private static let knownFlags = rejectFlag | leadershipTransferFlag | snapshotFlag

    static func messageSize(_ message: Message) -> Int {
        var size = messageFixedSize + message.readContext.count
        for entry in message.entries { size += entryFixedSize + entry.data.count }
        if let snapshot = message.snapshot {
            let configuration = snapshot.configuration
            size += 16 + 12 + 8 * (configuration.voters.count + configuration.outgoingVoters.count + configuration.learners.count)
        }
        return size
    }

    /// Writes a message.
    ///
    /// | Offset | Size | Field                                                           |
    /// |--------|------|-----------------------------------------------------------------|
    /// | 0      | 1    | message kind, see ``messageKindCode(_:)``                        |
    /// | 1      | 1    | flags: bit 0 `reject`, bit 1 `isLeadershipTransfer`, bit 2 a snapshot follows; other bits 0 |
    /// | 2      | 8    | `from`                                                          |
    /// | 10     | 8    | `to`                                                            |
    /// | 18     | 8    | `term`                                                          |
    /// | 26     | 8    | `logTerm`                                                       |
    /// | 34     | 8    | `index`                                                         |
    /// | 42     | 8    | `commit`                                                        |
    /// | 50     | 8    | `rejectHint`                                                    |
    /// | 58     | 8    | `context`                                                       |
    /// | 66     | 4+r  | `readContext` as `bytes`                                        |
    /// | 70+r   | 4    | entry count `m`, then `m` entries: `term` u64, `index` u64, kind u8 (0 normal, 1 configuration change), `data` as `bytes` |
    /// | …      |      | if bit 2: snapshot `index` u64, `term` u64, then the configuration's voters, outgoing voters and learners, each a `UInt32` count and that many `UInt64` ids in strictly ascending order |
    static func encodeMessage(_ message: Message, into writer: inout Writer) {
        writer.write(messageKindCode(message.kind))
        var flags: UInt8 = 0
        if message.reject { flags |= rejectFlag }
        if message.isLeadershipTransfer { flags |= leadershipTransferFlag }
        if message.snapshot != nil { flags |= snapshotFlag }
        writer.write(flags)
        writer.write(message.from)
        writer.write(message.to)
        writer.write(message.term)
        writer.write(message.logTerm)
        writer.write(message.index)
        writer.write(message.commit)
        writer.write(message.rejectHint)
        writer.write(message.context)
        writer.writeSized(message.readContext)
        writer.write(UInt32(message.entries.count))
        for entry in message.entries {
            writer.write(entry.term)
            writer.write(entry.index)
            writer.write(entryKindCode(entry.kind))
            writer.writeSized(entry.data)
        }
        if let snapshot = message.snapshot {
            writer.write(snapshot.index)
            writer.write(snapshot.term)
            let configuration = snapshot.configuration
            for members in [configuration.voters, configuration.outgoingVoters, configuration.learners] {
                writer.write(UInt32(members.count))
                for id in members.sorted() { writer.write(id) }
            }
        }
    }

    static func decodeMessage(_ reader: inout Reader) throws(EnvelopeCodecError) -> Message {
        let kind = try messageKind(code: reader.read())
        let flags: UInt8 = try reader.read()
        guard flags & ~knownFlags == 0 else { throw .invalidFlags(flags) }
        var message = Message(kind: kind, from: try reader.read(), to: try reader.read(), term: try reader.read())
        message.logTerm = try reader.read()
        message.index = try reader.read()
        message.commit = try reader.read()
        message.rejectHint = try reader.read()
        message.context = try reader.read()
        message.reject = flags & rejectFlag != 0
        message.isLeadershipTransfer = flags & leadershipTransferFlag != 0
        message.readContext = try reader.readSized()
        let count = try reader.readCount(minimumItemSize: entryFixedSize)
        message.entries.reserveCapacity(count)
        for _ in 0..<count {
            let term: UInt64 = try reader.read()
            let index: UInt64 = try reader.read()
            let kind = try entryKind(code: reader.read())
            message.entries.append(Entry(term: term, index: index, kind: kind, data: try reader.readSized()))
        }
        if flags & snapshotFlag != 0 {
            let index: UInt64 = try reader.read()
            let term: UInt64 = try reader.read()
            let voters = try decodeMembers(&reader)
            let outgoing = try decodeMembers(&reader)
            let learners = try decodeMembers(&reader)
            message.snapshot = SnapshotMetadata(
                index: index, term: term,
                configuration: Configuration(voters: voters, outgoingVoters: outgoing, learners: learners))
        }
        return message
    }

    private static func decodeMembers(_ reader: inout Reader) throws(EnvelopeCodecError) -> Set<NodeID> {
        let count = try reader.readCount(minimumItemSize: 8)
        var members = Set<NodeID>(minimumCapacity: count)
        var previous: NodeID?
        for _ in 0..<count {
            let id: NodeID = try reader.read()
            // Strictly ascending keeps the encoding canonical: one set, one byte string.
            if let previous, id <= previous { throw .invalidConfiguration }
            members.insert(id)
            previous = id
        }
        return members
    }

    /// The wire code of a message kind: fixed here, independent of the enum's declaration order.
    ///
    /// 0 append, 1 appendResponse, 2 heartbeat, 3 heartbeatResponse, 4 vote, 5 voteResponse,
    /// 6 preVote, 7 preVoteResponse, 8 snapshot, 9 timeoutNow, 10 readIndex, 11 readIndexResponse.
    static func messageKindCode(_ kind: MessageKind) -> UInt8 {
        switch kind {
        case .append: 0
        case .appendResponse: 1
        case .heartbeat: 2
        case .heartbeatResponse: 3
        case .vote: 4
        case .voteResponse: 5
        case .preVote: 6
        case .preVoteResponse: 7
        case .snapshot: 8
        case .timeoutNow: 9
        case .readIndex: 10
        case .readIndexResponse: 11
        }
    }

    private static let messageKinds: [MessageKind] = [
        .append, .appendResponse, .heartbeat, .heartbeatResponse, .vote, .voteResponse, .preVote,
        .preVoteResponse, .snapshot, .timeoutNow, .readIndex, .readIndexResponse,
    ]

    private static func messageKind(code: UInt8) throws(EnvelopeCodecError) -> MessageKind {
        guard Int(code) < messageKinds.count else { throw .unknownMessageKind(code) }
        return messageKinds[Int(code)]
    }

    private static func entryKindCode(_ kind: EntryKind) -> UInt8 {
        switch kind {
        case .normal: 0
        case .configChange: 1
        }
    }

    private static func entryKind(code: UInt8) throws(EnvelopeCodecError) -> EntryKind {
        switch code {
        case 0: .normal
        case 1: .configChange
        default: throw .unknownEntryKind(code)
        }
    }

    // MARK: Snapshot chunks (frame kind 2)

    /// A chunk's fields after its message: file size, offset, checksum, last flag, byte count.
    static let chunkTailSize = 8 + 8 + 4 + 1 + 4

    /// Writes a snapshot chunk.
    ///
    /// | Size | Field                                                     |
    /// |------|-----------------------------------------------------------|
    /// | …    | the InstallSnapshot `message`, laid out as in ``encodeMessage(_:into:)`` |
    /// | 8    | `fileSize`, `Int64`                                       |
    /// | 8    | chunk `offset`, `Int64`                                   |
    /// | 4    | chunk `checksum`, the CRC32C of its bytes (checked by the receiver before writing) |
    /// | 1    | `isLast`, bool                                            |
    /// | 4+b  | the chunk's `bytes`                                       |
    static func encodeChunk(_ chunk: SnapshotChunkMessage, into writer: inout Writer) {
        encodeMessage(chunk.message, into: &writer)
        writer.write(chunk.fileSize)
        writer.write(chunk.chunk.offset)
        writer.write(chunk.chunk.checksum)
        writer.write(chunk.chunk.isLast)
        writer.writeSized(chunk.chunk.bytes)
    }

    static func decodeChunk(_ reader: inout Reader) throws(EnvelopeCodecError) -> SnapshotChunkMessage {
        let message = try decodeMessage(&reader)
        let fileSize: Int64 = try reader.read()
        let offset: Int64 = try reader.read()
        let checksum: UInt32 = try reader.read()
        let isLast = try reader.readBool()
        let bytes = try reader.readSized()
        return SnapshotChunkMessage(
            message: message, fileSize: fileSize,
            chunk: SnapshotChunk(offset: offset, bytes: bytes, checksum: checksum, isLast: isLast))
    }

    // MARK: Snapshot acknowledgements (frame kind 3)

    static let ackSize = 8 * 5 + 1

    /// Writes a snapshot acknowledgement.
    ///
    /// | Offset | Size | Field                     |
    /// |--------|------|---------------------------|
    /// | 0      | 8    | `from`                    |
    /// | 8      | 8    | `to`                      |
    /// | 16     | 8    | `term`                    |
    /// | 24     | 8    | `snapshotIndex`           |
    /// | 32     | 8    | `nextOffset`, `Int64`     |
    /// | 40     | 1    | `rejected`, bool          |
    static func encodeAck(_ ack: SnapshotAck, into writer: inout Writer) {
        writer.write(ack.from)
        writer.write(ack.to)
        writer.write(ack.term)
        writer.write(ack.snapshotIndex)
        writer.write(ack.nextOffset)
        writer.write(ack.rejected)
    }

    static func decodeAck(_ reader: inout Reader) throws(EnvelopeCodecError) -> SnapshotAck {
        SnapshotAck(
            from: try reader.read(), to: try reader.read(), term: try reader.read(),
            snapshotIndex: try reader.read(), nextOffset: try reader.read(), rejected: try reader.readBool())
    }
}
