import Foundation
import Testing

/// `redis-benchmark`, the tool users reach for first, against a three-node cluster: it
/// completes with no errors, through its start-up probes (`CONFIG GET save|appendonly`).
@Suite(.timeLimit(.minutes(2))) struct RedisBenchmarkProcessTests {
    @Test func aShortRedisBenchmarkRunCompletesAgainstTheCluster() async throws {
        let candidates = ["/usr/bin/redis-benchmark", "/usr/local/bin/redis-benchmark"]
        guard let tool = candidates.first(where: FileManager.default.isExecutableFile(atPath:)) else {
            if ProcessInfo.processInfo.environment["CI"] == "true" {
                Issue.record("redis-benchmark is not installed, and CI=true requires it (apt-get install -y redis-tools)")
            }
            return
        }
        let cluster = try ServerCluster(ids: [1, 2, 3])
        defer { cluster.remove() }
        try cluster.startAll()
        let leader = try #require(await cluster.leader())

        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = [
            "-h", "127.0.0.1", "-p", "\(cluster.members[leader]!.clientPort)", "-t", "set,get", "-n", "2000", "-c", "8", "-d", "256",
            "--csv",
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(text)")
        // --csv: a header, then "TEST","rps",... per test.
        var rates: [String: Double] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            let fields = line.split(separator: ",").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
            if fields.count > 1, let rate = Double(fields[1]) { rates[fields[0]] = rate }
        }
        #expect((rates["SET"] ?? 0) > 0 && (rates["GET"] ?? 0) > 0, "both tests ran: \(text)")
        #expect(!text.contains("ERR"), "no error replies: \(text)")

        // What it wrote is there, on another node too.
        let follower = cluster.members.keys.sorted().first { $0 != leader }!
        let client = try await cluster.client(follower)
        defer { Task { await client.close() } }
        #expect(try await client.send(["EXISTS", "key:__rand_int__"]) == .integer(1), "redis-benchmark's key was replicated")
    }
}
