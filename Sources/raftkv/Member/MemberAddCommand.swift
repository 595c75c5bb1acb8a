import ArgumentParser
import RaftKV

/// `raftkv member add ID=HOST:PORT --client HOST:PORT`: adds a node started with `--join`.
struct MemberAddCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Adds a node started with --join: records its addresses, adds it as a learner, promotes it once caught up.",
        discussion: "Repeating an add that timed out resumes it; adding a voter again with the same addresses does nothing.")

    @Argument(help: "The new member's id and peer address, ID=HOST:PORT.") var member: String
    @Option(help: "The new member's client address, HOST:PORT.") var client: String
    @OptionGroup var options: MemberServerOptions
    @Option(help: "Seconds to wait for the answer (the new member catches up first).") var timeout = 60

    func run() async throws {
        let parts = member.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, let id = UInt64(parts[0]), id != 0, let peer = HostPort.parse(parts[1]), peer.port != 0 else {
            printError("raftkv member add: '\(member)' is not ID=HOST:PORT with a non-zero id and port")
            throw ExitCode(2)
        }
        guard let address = HostPort.parse(client), address.port != 0 else {
            printError("raftkv member add: --client '\(client)' is not HOST:PORT with a non-zero port")
            throw ExitCode(2)
        }
        guard (1...3600).contains(timeout) else {
            printError("raftkv member add: --timeout must be 1...3600 seconds")
            throw ExitCode(2)
        }
        let reply = try await MemberRequestSender(command: "add", options: options, replyTimeout: .seconds(timeout))
            .send(["RAFTKV.MEMBER", "ADD", "\(id)", parts[1], client])
        guard reply == .ok else { try MemberRequestSender.fail("add", reply) }
        print("node \(id) is a voter (peer \(parts[1]), client \(client))")
    }
}
