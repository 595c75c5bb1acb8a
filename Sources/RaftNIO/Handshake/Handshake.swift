import Crypto
import RaftCore

/// The opening of every connection, before any envelope: who is talking to whom, in which
/// cluster, and a proof from each side that it knows the cluster secret.
///
/// ```
/// dialler                                                     listener
///   hello(magic, version, cluster, from, to, lane, nonceD)  →
///                    ←  reply(magic, version, cluster, from, to, nonceL)
///   proof(proofD)                                           →
///                                           ←  proof(proofL)
/// ```
/// `proofD = HMAC-SHA256(secret, "swift-raft dialler v1" ‖ cluster ‖ dialler ‖ listener ‖ nonceD ‖ nonceL)`
/// and `proofL` the same with the label `"swift-raft listener v1"`. Each side checks the
/// other's proof against its own secret (in constant time) and closes the connection if it is
/// wrong. The dialler proves first, so a listener gives no proof to a peer that has not shown
/// it knows the secret; the dialler sends no envelope before it has checked the listener's.
/// The secret never crosses the wire, fresh nonces on both sides defeat replays, and the
/// distinct labels defeat reflecting one side's proof back at it.
///
/// Each message is a control frame of `EnvelopeCodec`; its payload, little-endian:
///
/// | Message | Kind | Payload                                                                  |
/// |---------|------|--------------------------------------------------------------------------|
/// | hello   | 0x80 | magic "SRFT" (4), version `UInt16`, cluster id (16), sender `UInt64`, receiver `UInt64`, lane `UInt8` (0 messages, 1 snapshots), nonce (32) |
/// | reply   | 0x81 | magic (4), version `UInt16`, cluster id (16), sender `UInt64`, receiver `UInt64`, nonce (32) |
/// | proof   | 0x82 | proof (32), first the dialler's, then the listener's                      |
/// | keepalive | 0x83 | empty; sent by the dialler on an idle connection                      |
enum Handshake {
    static let magic: [UInt8] = Array("SRFT".utf8)
    static let protocolVersion: UInt16 = 1
    static let nonceSize = 32

    enum Kind: UInt8 {
        case hello = 0x80
        case reply = 0x81
        case proof = 0x82
        case keepalive = 0x83
    }

    /// Which of a peer's two connections this is.
    enum Lane: UInt8, Sendable {
        /// Raft messages and snapshot acknowledgements.
        case messages = 0
        /// Snapshot chunks, so megabytes of snapshot never delay a heartbeat.
        case snapshots = 1
    }

    /// The first frame, from the dialler; a reply has the same fields but the lane.
    struct Hello: Equatable {
        var version: UInt16
        var clusterID: [UInt8]
        var sender: NodeID
        var receiver: NodeID
        var lane: UInt8
        var nonce: [UInt8]
    }

    enum DecodeError: Error {
        case wrongMagic
        case malformed
    }

    static func nonce() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<nonceSize).map { _ in generator.next() }
    }

    static func encodeHello(_ hello: Hello) -> [UInt8] {
        var bytes = magic
        append(hello.version, to: &bytes)
        bytes += hello.clusterID
        append(hello.sender, to: &bytes)
        append(hello.receiver, to: &bytes)
        bytes.append(hello.lane)
        bytes += hello.nonce
        return bytes
    }

    static func encodeReply(_ reply: Hello) -> [UInt8] {
        var bytes = magic
        append(reply.version, to: &bytes)
        bytes += reply.clusterID
        append(reply.sender, to: &bytes)
        append(reply.receiver, to: &bytes)
        bytes += reply.nonce
        return bytes
    }

    /// Decodes a hello (`isReply` false) or a reply. The version is read before the size is
    /// checked, so a peer of another version is told apart from garbage.
    static func decode(_ payload: [UInt8], isReply: Bool) throws(DecodeError) -> Hello {
        guard payload.count >= 6, Array(payload[0..<4]) == magic else { throw .wrongMagic }
        let version = UInt16(payload[4]) | UInt16(payload[5]) << 8
        let size = 4 + 2 + 16 + 8 + 8 + (isReply ? 0 : 1) + nonceSize
        guard version != protocolVersion || payload.count == size else { throw .malformed }
        guard version == protocolVersion else {
            return Hello(version: version, clusterID: [], sender: 0, receiver: 0, lane: 0, nonce: [])
        }
        var offset = 22
        let sender = read(payload, &offset)
        let receiver = read(payload, &offset)
        var lane: UInt8 = 0
        if !isReply {
            lane = payload[offset]
            offset += 1
        }
        return Hello(
            version: version, clusterID: Array(payload[6..<22]), sender: sender, receiver: receiver, lane: lane,
            nonce: Array(payload[offset..<offset + nonceSize]))
    }

    /// The proof one side gives: an HMAC over everything both sides said.
    static func proof(
        role: Role, secret: SymmetricKey, clusterID: [UInt8], dialler: NodeID, listener: NodeID,
        diallerNonce: [UInt8], listenerNonce: [UInt8]
    ) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(
            for: transcript(role, clusterID, dialler, listener, diallerNonce, listenerNonce), using: secret))
    }

    /// Whether `proof` is the one `role` must give; compared in constant time.
    static func verify(
        _ proof: [UInt8], role: Role, secret: SymmetricKey, clusterID: [UInt8], dialler: NodeID, listener: NodeID,
        diallerNonce: [UInt8], listenerNonce: [UInt8]
    ) -> Bool {
        HMAC<SHA256>.isValidAuthenticationCode(
            proof, authenticating: transcript(role, clusterID, dialler, listener, diallerNonce, listenerNonce),
            using: secret)
    }

    enum Role {
        case dialler
        case listener

        var label: [UInt8] {
            switch self {
            case .dialler: Array("swift-raft dialler v1".utf8)
            case .listener: Array("swift-raft listener v1".utf8)
            }
        }
    }

    /// The key for a secret; without a secret, an empty key (the proofs then only show that
    /// both sides run without one).
    static func key(_ secret: [UInt8]?) -> SymmetricKey {
        SymmetricKey(data: secret ?? [])
    }

    private static func transcript(
        _ role: Role, _ clusterID: [UInt8], _ dialler: NodeID, _ listener: NodeID, _ diallerNonce: [UInt8],
        _ listenerNonce: [UInt8]
    ) -> [UInt8] {
        var bytes = role.label + clusterID
        append(dialler, to: &bytes)
        append(listener, to: &bytes)
        return bytes + diallerNonce + listenerNonce
    }

    private static func append<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    private static func read(_ bytes: [UInt8], _ offset: inout Int) -> UInt64 {
        var value: UInt64 = 0
        for position in 0..<8 { value |= UInt64(bytes[offset + position]) << (8 * position) }
        offset += 8
        return value
    }
}
