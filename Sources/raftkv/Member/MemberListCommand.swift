import ArgumentParser
import RaftKV

/// `raftkv member list`: the configuration's voters and learners with their addresses.
struct MemberListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "Lists the voters and learners with their addresses, one per line: ID ROLE PEER CLIENT.")

    @OptionGroup var options: MemberServerOptions

    func run() async throws {
        let reply = try await MemberRequestSender(command: "list", options: options, replyTimeout: .seconds(10))
            .send(["RAFTKV.MEMBER", "LIST"])
        guard case .array(let rows) = reply else { try MemberRequestSender.fail("list", reply) }
        for row in rows {
            guard case .array(let fields) = row, fields.count == 4, case .integer(let id) = fields[0] else {
                try MemberRequestSender.fail("list", reply)
            }
            let text = fields.dropFirst().map { $0.text.map { $0.isEmpty ? "-" : $0 } ?? "-" }
            print(([String(id)] + text).joined(separator: " "))
        }
    }
}
