import RaftKV
import Testing

@Suite struct RESPReplyCodingTests {
    private let values: [RESPValue] = [
        .ok, .error("ERR wrong"), .integer(-42), .integer(Int64.max), .bulk("hello"), .bulkString([0, 13, 10]),
        .bulkString([]), .null, .array([]), .array([.integer(1), .array([.bulk("x"), .null])]),
    ]

    private func decode(_ bytes: [UInt8], split: Int? = nil) throws -> [RESPValue] {
        var decoder = RESPReplyDecoder()
        var decoded: [RESPValue] = []
        let pieces = split.map { [Array(bytes[..<$0]), Array(bytes[$0...])] } ?? [bytes]
        for piece in pieces {
            decoder.append(piece)
            while let value = try decoder.next() { decoded.append(value) }
        }
        return decoded
    }

    @Test func resp2RoundTripsAtEveryReadBoundary() throws {
        var wire: [UInt8] = []
        for value in values { RESPEncoder.encode(value, version: .resp2, into: &wire) }
        for split in 0...wire.count {
            #expect(try decode(wire, split: split) == values, "split at \(split)")
        }
    }

    @Test func resp3KeepsItsTypesAndResp2FlattensThem() throws {
        let map = RESPValue.map([.bulk("role"), .bulk("master"), .bulk("proto"), .integer(3)])
        var resp3: [UInt8] = []
        for value in [map, .boolean(true), .double(1.5), .null] { RESPEncoder.encode(value, version: .resp3, into: &resp3) }
        #expect(try decode(resp3) == [map, .boolean(true), .double(1.5), .null])
        #expect(Array("_\r\n".utf8).allSatisfy(resp3.contains))

        var resp2: [UInt8] = []
        for value in [map, .boolean(true), .null] { RESPEncoder.encode(value, version: .resp2, into: &resp2) }
        #expect(try decode(resp2) == [
            .array([.bulk("role"), .bulk("master"), .bulk("proto"), .integer(3)]), .integer(1), .null,
        ])
    }

    @Test func aLineBreakInASimpleStringCannotEndTheValueEarly() throws {
        var wire: [UInt8] = []
        RESPEncoder.encode(.error("ERR a\r\nb"), version: .resp2, into: &wire)
        #expect(try decode(wire) == [.error("ERR a  b")])
    }

    @Test func refusesOversizedAndMalformedReplies() {
        var decoder = RESPReplyDecoder(limits: RESPLimits(maxBulkLength: 8, maxArrayLength: 2, maxLineLength: 16, maxDepth: 2))
        decoder.append(Array("$9\r\n".utf8))
        #expect(throws: RESPProtocolError.invalidBulkLength) { try decoder.next() }
        var nested = RESPReplyDecoder(limits: RESPLimits(maxDepth: 2))
        nested.append(Array("*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n".utf8))
        #expect(throws: RESPProtocolError.nestingTooDeep) { try nested.next() }
        var unknown = RESPReplyDecoder()
        unknown.append(Array("?\r\n".utf8))
        #expect(throws: RESPProtocolError.unexpectedByte(UInt8(ascii: "?"))) { try unknown.next() }
    }
}
