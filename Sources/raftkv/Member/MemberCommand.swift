import ArgumentParser

/// `raftkv member`: adds, removes and lists a running cluster's members.
struct MemberCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "member",
        abstract: "Adds, removes or lists the members of a running cluster.",
        discussion: """
            Changes run on the leader: the server named by --server points the command there. \
            Exit status: 0 done, 1 the cluster refused or could not be reached, 2 bad arguments.
            """,
        subcommands: [MemberAddCommand.self, MemberRemoveCommand.self, MemberListCommand.self])
}

/// The options every `raftkv member` subcommand takes: which server to ask, and how.
struct MemberServerOptions: ParsableArguments {
    @Option(help: "A member's client address, HOST:PORT.") var server: String
    @Option(help: "A file holding the password to AUTH with.") var requirepassFile: String?
}
