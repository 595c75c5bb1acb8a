import ArgumentParser
import Foundation
import RaftKV

/// Sends one `RAFTKV.MEMBER` request to a server and follows its `-NOTLEADER <address>`
/// answers to the leader (a few hops at most), authenticating on every connection.
struct MemberRequestSender {
    /// The subcommand, for messages.
    let command: String
    let options: MemberServerOptions
    let replyTimeout: Duration

    /// How many times an answer may send the request on to another server.
    static let maxRedirects = 3

    /// The final server's reply; exits with status 2 on a bad `--server`, 1 when no server
    /// answers.
    func send(_ request: [String]) async throws -> RESPValue {
        guard HostPort.parse(options.server) != nil else {
            printError("raftkv member \(command): --server '\(options.server)' is not HOST:PORT")
            throw ExitCode(2)
        }
        let password = try readPassword()
        var server = options.server
        for _ in 0...Self.maxRedirects {
            let reply = try await send(request, to: server, password: password)
            guard case .error(let message) = reply, message.hasPrefix("NOTLEADER "),
                let leader = message.split(separator: " ").dropFirst().first.map(String.init), HostPort.parse(leader) != nil
            else { return reply }
            server = leader
        }
        printError("raftkv member \(command): still no leader after \(Self.maxRedirects) redirects (last: \(server)); retry")
        throw ExitCode(1)
    }

    /// Prints `reply` as the refusal it is and exits with status 1.
    static func fail(_ command: String, _ reply: RESPValue) throws -> Never {
        if case .error(let message) = reply {
            printError("raftkv member \(command): \(message)")
        } else {
            printError("raftkv member \(command): unexpected answer \(reply)")
        }
        throw ExitCode(1)
    }

    private func send(_ request: [String], to server: String, password: [UInt8]?) async throws -> RESPValue {
        let address = HostPort.parse(server)!
        do {
            let client = try await RESPClient.connect(host: address.host, port: address.port, replyTimeout: replyTimeout)
            defer { Task { await client.close() } }
            if let password {
                let reply = try await client.send([Array("AUTH".utf8), password])
                if reply.isError { try Self.fail(command, reply) }
            }
            return try await client.send(request)
        } catch let error as RESPClientError {
            printError("raftkv member \(command): \(server): \(error)")
            throw ExitCode(1)
        }
    }

    private func readPassword() throws -> [UInt8]? {
        guard let path = options.requirepassFile else { return nil }
        guard var bytes = FileManager.default.contents(atPath: path).map(Array.init) else {
            printError("raftkv member \(command): --requirepass-file \(path): unreadable")
            throw ExitCode(2)
        }
        while let last = bytes.last, last == 0x0A || last == 0x0D { bytes.removeLast() }
        return bytes
    }
}
