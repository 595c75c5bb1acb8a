import ArgumentParser

/// `raftkv`: the replicated key-value server's command line, and the operator's tools for
/// its storage.
@main
struct RaftKVCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "raftkv",
        abstract: "A replicated key-value store on swift-raft, and tools for its write-ahead log.",
        subcommands: [DemoCommand.self, BenchCommand.self, ServeCommand.self, StatusCommand.self, MemberCommand.self, WALCommand.self])
}
