import ArgumentParser
import RaftKV

/// `raftkv member remove ID`: removes a voter or a learner.
struct MemberRemoveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Removes a voter or a learner.")

    @Argument(help: "The member's id.") var id: UInt64
    @OptionGroup var options: MemberServerOptions

    func run() async throws {
        guard id != 0 else {
            printError("raftkv member remove: the id must be non-zero")
            throw ExitCode(2)
        }
        let reply = try await MemberRequestSender(command: "remove", options: options, replyTimeout: .seconds(30))
            .send(["RAFTKV.MEMBER", "REMOVE", "\(id)"])
        guard reply == .ok else { try MemberRequestSender.fail("remove", reply) }
        print("node \(id) is no longer a member")
    }
}
