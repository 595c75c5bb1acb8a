/// The byte encoding of a ``ConfChange`` inside an ``Entry`` of kind
/// ``EntryKind/configChange``: per operation, one tag byte followed by the
/// node id as 8 bytes little-endian. An empty payload is ``ConfChange/leaveJoint``.
extension ConfChange {
    private static let addVoterTag: UInt8 = 1
    private static let addLearnerTag: UInt8 = 2
    private static let removeTag: UInt8 = 3
    private static let operationSize = 9

    /// The change encoded as entry data.
    public func encoded() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(operations.count * Self.operationSize)
        for operation in operations {
            let (tag, id): (UInt8, NodeID)
            switch operation {
            case .addVoter(let node): (tag, id) = (Self.addVoterTag, node)
            case .addLearner(let node): (tag, id) = (Self.addLearnerTag, node)
            case .remove(let node): (tag, id) = (Self.removeTag, node)
            }
            bytes.append(tag)
            for shift in stride(from: 0, to: 64, by: 8) {
                bytes.append(UInt8(truncatingIfNeeded: id >> UInt64(shift)))
            }
        }
        return bytes
    }

    /// Decodes entry data; `nil` when the bytes are not a valid encoding.
    public init?(decoding bytes: [UInt8]) {
        guard bytes.count % Self.operationSize == 0 else { return nil }
        var operations: [ConfChangeOperation] = []
        var position = 0
        while position < bytes.count {
            var id: NodeID = 0
            for byte in 0..<8 {
                id |= NodeID(bytes[position + 1 + byte]) << NodeID(8 * byte)
            }
            switch bytes[position] {
            case Self.addVoterTag: operations.append(.addVoter(id))
            case Self.addLearnerTag: operations.append(.addLearner(id))
            case Self.removeTag: operations.append(.remove(id))
            default: return nil
            }
            position += Self.operationSize
        }
        self.init(operations)
    }
}
