import ArgumentParser
import Foundation
import RaftKV

/// `raftkv status`: one server's view of its cluster, from its `INFO`.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Shows a server's role, leader, term, indexes and members.")

    @Option(help: "The server's client address, HOST:PORT.") var server: String
    @Option(help: "A file holding the password to AUTH with.") var requirepassFile: String?
    @Flag(help: "Print the fields as one JSON object.") var json = false

    func run() async throws {
        guard let address = HostPort.parse(server) else {
            printError("raftkv status: --server '\(server)' is not HOST:PORT")
            throw ExitCode(2)
        }
        do {
            let client = try await RESPClient.connect(host: address.host, port: address.port, replyTimeout: .seconds(5))
            defer { Task { await client.close() } }
            if let path = requirepassFile, let password = FileManager.default.contents(atPath: path) {
                var bytes = Array(password)
                while let last = bytes.last, last == 0x0A || last == 0x0D { bytes.removeLast() }
                _ = try await client.send([Array("AUTH".utf8), bytes])
            }
            let reply = try await client.send(["INFO", "replication"])
            guard case .bulkString(let bytes) = reply else {
                printError("raftkv status: \(server) answered \(reply)")
                throw ExitCode(1)
            }
            var fields: [(String, String)] = []
            var inReplication = false
            for line in String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isNewline) {
                if line.hasPrefix("#") {
                    inReplication = line.contains("Replication")
                    continue
                }
                guard inReplication, let colon = line.firstIndex(of: ":") else { continue }
                fields.append((String(line[..<colon]), String(line[line.index(after: colon)...])))
            }
            if json {
                let object = Dictionary(fields, uniquingKeysWith: { first, _ in first })
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            } else {
                for (key, value) in fields { print("\(key): \(value)") }
            }
        } catch let error as RESPClientError {
            printError("raftkv status: \(server): \(error)")
            throw ExitCode(1)
        } catch let error as ExitCode {
            throw error
        } catch {
            printError("raftkv status: cannot reach \(server): \(error)")
            throw ExitCode(1)
        }
    }
}
