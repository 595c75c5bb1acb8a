import RaftKV
import Testing

@Suite struct RESPRequestDecoderTests {
    private func decodeAll(_ chunks: [[UInt8]], limits: RESPLimits = RESPLimits()) throws -> [[[UInt8]]] {
        var decoder = RESPRequestDecoder(limits: limits)
        var commands: [[[UInt8]]] = []
        for chunk in chunks {
            decoder.append(chunk)
            while let command = try decoder.next() { commands.append(command) }
        }
        return commands
    }

    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func decodesAnArrayOfBulkStrings() throws {
        let commands = try decodeAll([bytes("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhe\r\no\r\n")])
        #expect(commands == [[bytes("SET"), bytes("k"), bytes("he\r\no")]])
    }

    @Test func decodesTheSameCommandsWhateverTheReadBoundaries() throws {
        var wire: [UInt8] = []
        let sent: [[[UInt8]]] = [
            [bytes("SET"), bytes("key"), [0, 13, 10, 255]], [bytes("GET"), bytes("key")], [bytes("PING")], [[]],
        ]
        for command in sent { RESPEncoder.encodeRequest(command, into: &wire) }
        wire += bytes("ECHO \"a b\\x41\" 'c\\'d'\r\n")
        let expected = sent + [[bytes("ECHO"), bytes("a bA"), bytes("c'd")]]
        #expect(try decodeAll([wire]) == expected)
        for split in 0...wire.count {
            #expect(try decodeAll([Array(wire[..<split]), Array(wire[split...])]) == expected, "split at \(split)")
        }
        #expect(try decodeAll(wire.map { [$0] }) == expected, "one byte at a time")
    }

    @Test func decodesInlineCommandsAndSkipsBlankLines() throws {
        #expect(try decodeAll([bytes("\r\nPING\r\n  set  a   b \nGET a\r\n")]) == [
            [bytes("PING")], [bytes("set"), bytes("a"), bytes("b")], [bytes("GET"), bytes("a")],
        ])
    }

    @Test func refusesLengthsBeyondTheLimitsBeforeBufferingThem() {
        let limits = RESPLimits(maxBulkLength: 16, maxArrayLength: 4, maxLineLength: 32)
        #expect(throws: RESPProtocolError.invalidBulkLength) { try decodeAll([bytes("*1\r\n$17\r\n")], limits: limits) }
        #expect(throws: RESPProtocolError.invalidBulkLength) { try decodeAll([bytes("*1\r\n$-1\r\n")], limits: limits) }
        #expect(throws: RESPProtocolError.invalidArrayLength) { try decodeAll([bytes("*5\r\n")], limits: limits) }
        #expect(throws: RESPProtocolError.invalidArrayLength) {
            try decodeAll([bytes("*99999999999999999999\r\n")], limits: limits)
        }
        #expect(throws: RESPProtocolError.lineTooLong) {
            try decodeAll([Array(repeating: UInt8(ascii: "a"), count: 40)], limits: limits)
        }
        #expect(throws: RESPProtocolError.unexpectedByte(UInt8(ascii: ":"))) {
            try decodeAll([bytes("*1\r\n:1\r\n")], limits: limits)
        }
        #expect(throws: RESPProtocolError.missingCRLF) { try decodeAll([bytes("*1\r\n$1\r\nabc\r\n")], limits: limits) }
        #expect(throws: RESPProtocolError.unbalancedQuotes) { try decodeAll([bytes("GET \"abc\r\n")], limits: limits) }
    }

    @Test func randomGarbageEndsInACommandOrATypedErrorNeverATrap() {
        var random = SystemRandomNumberGenerator()
        let alphabet = bytes("*$:+-\r\n0123456789-abc \"'\\x")
        for _ in 0..<2000 {
            let garbage = (0..<Int.random(in: 1...64, using: &random)).map { _ in alphabet.randomElement(using: &random)! }
            var decoder = RESPRequestDecoder(limits: RESPLimits(maxBulkLength: 64, maxArrayLength: 8, maxLineLength: 48))
            decoder.append(garbage)
            var steps = 0
            while steps < 100, (try? decoder.next()) != nil { steps += 1 }
            #expect(steps < 100)
        }
    }
}
