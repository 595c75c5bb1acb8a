import ArgumentParser

struct WALCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wal",
        abstract: "Inspect, verify, repair and stress a write-ahead log directory.",
        subcommands: [StressCommand.self, VerifyCommand.self, DumpCommand.self, RepairCommand.self])
}
