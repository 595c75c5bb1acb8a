import Logging
import Raft

/// Sends a follower's writes to the leader over the leader's client port, as one internal
/// `RAFTKV.FORWARD` command per batch, keeping one connection per leader address.
actor LeaderForwarder {
    private var clients: [String: RESPClient] = [:]
    private let password: [UInt8]?
    private let timeout: Duration
    private let logger: Logger

    init(password: [UInt8]?, timeout: Duration, logger: Logger) {
        self.password = password
        self.timeout = timeout
        self.logger = logger
    }

    /// Forwards an encoded command to the leader at `address` and returns its result, or the
    /// error reply to give the client (which says whether the write may have happened).
    func forward(_ command: [UInt8], to address: String) async -> Result<KVResult, FailedWrite> {
        let client: RESPClient
        if let cached = clients[address] {
            client = cached
        } else {
            guard let parsed = HostPort.parse(address),
                let connected = try? await RESPClient.connect(
                    host: parsed.host, port: parsed.port, connectTimeout: .seconds(1), replyTimeout: timeout)
            else {
                return .failure(FailedWrite(.error("TRYAGAIN cannot reach the leader at \(address); the write was not executed, retry")))
            }
            if let password {
                // Nothing was proposed yet: an authentication failure is a clean refusal.
                guard let reply = try? await connected.send([Array("AUTH".utf8), password]), !reply.isError else {
                    await connected.close()
                    return .failure(FailedWrite(.error("TRYAGAIN the leader refused this node's AUTH; the write was not executed")))
                }
            }
            clients[address] = connected
            client = connected
        }
        do {
            let reply = try await client.send([Array("RAFTKV.FORWARD".utf8), command])
            switch reply {
            case .bulkString(let bytes):
                guard let result = try? KVResult(decoding: bytes) else {
                    return .failure(FailedWrite(WriteFailure.unknown("the leader's answer was undecodable")))
                }
                return .success(result)
            case .error:
                // The leader classified its own failure (TRYAGAIN, NOLEADER, UNKNOWNOUTCOME).
                return .failure(FailedWrite(reply))
            default:
                return .failure(FailedWrite(WriteFailure.unknown("the leader answered \(reply)")))
            }
        } catch {
            clients[address] = nil
            await client.close()
            logger.debug("forwarding failed", metadata: ["leader": "\(address)", "error": "\(error)"])
            return .failure(FailedWrite(WriteFailure.unknown("forwarded to the leader at \(address), then \(error)")))
        }
    }
}
