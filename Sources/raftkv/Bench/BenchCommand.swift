import ArgumentParser
import Foundation

/// `raftkv bench`: the same load against a one-node and a three-node raftkv cluster and, when
/// it is installed, against Redis with every write fsynced (`appendfsync always`), side by side.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measures raftkv (one node, three nodes) beside redis-server with appendfsync always.",
        discussion: """
            Every server runs on this machine on loopback, one after the other, and the same \
            load generator drives each: --clients connections to the leader, each sending \
            --pipeline commands at a time (SET of --value-size bytes, then GET, over a key space \
            of 100,000), for --duration per point. Redis runs as `redis-server --appendonly yes \
            --appendfsync always` when redis-server is installed; the table says when it is not. \
            Writes bench-report.json and bench-chart.svg.

            Exit status: 0 done, 1 a server could not be started, 64 a usage error.
            """)

    @Option(help: "How long each point runs: 5s, 500ms, 1m.")
    var duration = "5s"

    @Option(help: "Concurrent connections.")
    var clients = 64

    @Option(help: "Pipeline depths to measure, comma-separated.")
    var pipeline = "1,16"

    @Option(help: "The size of a SET's value in bytes.")
    var valueSize = 256

    @Option(help: "Directory for the servers' data and the reports (default: a new temporary directory).")
    var directory: String?

    @Flag(help: "Print the report as JSON instead of a table.")
    var json = false

    func validate() throws {
        guard Duration(argument: duration) != nil else {
            throw ValidationError("--duration takes a positive number with ms, s or m, such as 5s")
        }
        guard (1...4096).contains(clients) else { throw ValidationError("--clients must be between 1 and 4096") }
        guard let depths = Self.depths(pipeline), !depths.isEmpty else {
            throw ValidationError("--pipeline takes depths from 1 to 1024, comma-separated, such as 1,16")
        }
        guard (1...(1 << 20)).contains(valueSize) else { throw ValidationError("--value-size must be between 1 and 1048576") }
    }

    func run() async throws {
        let load = Duration(argument: duration)!
        let root = directory ?? (NSTemporaryDirectory() + "raftkv-bench-\(Int(Date().timeIntervalSince1970))-\(getpid())")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let depths = Self.depths(pipeline)!
        var report = BenchReport(clients: clients, valueSize: valueSize, secondsPerPoint: load.inSeconds, points: [])
        do {
            for (name, nodes) in [("raftkv, 1 node", 1), ("raftkv, 3 nodes", 3)] {
                let cluster = try LocalCluster(count: nodes, directory: "\(root)/raftkv-\(nodes)", extraServeArguments: ["--exit-with-parent"])
                defer { cluster.stopAll() }
                for id in cluster.ids { try cluster.start(id) }
                let leader = try await cluster.waitForLeader(timeout: .seconds(30)).id
                report.points += try await measure(name, port: cluster.members[leader]!.clientPort, depths: depths, load: load) {
                    cluster.ids.compactMap(cluster.peakMemory(of:)).max()
                }
            }
            if let redis = RedisServer.installed() {
                let server = try await redis.start(directory: root + "/redis")
                defer { server.stop() }
                report.points += try await measure("redis, appendfsync always", port: server.port, depths: depths, load: load) {
                    server.peakMemory
                }
            } else {
                report.notes.append("redis-server is not installed (apt-get install redis-server): no Redis figures")
            }
        } catch {
            printError("raftkv bench: \(error)")
            throw ExitCode(1)
        }
        let reportPath = root + "/bench-report.json"
        let chartPath = root + "/bench-chart.svg"
        try report.write(to: reportPath)
        try BenchChart.svg(report: report).write(toFile: chartPath, atomically: true, encoding: .utf8)
        if json {
            print(String(decoding: try report.encoded(), as: UTF8.self))
        } else {
            print(report.table)
            for note in report.notes { print("note: \(note)") }
            print("report: \(reportPath)")
            print("chart:  \(chartPath)")
        }
    }

    /// SET then GET at every depth against the server on `port`.
    private func measure(
        _ target: String, port: Int, depths: [Int], load: Duration, peakMemory: () -> Int64?
    ) async throws -> [BenchReport.Point] {
        var points: [BenchReport.Point] = []
        for operation in [BenchLoad.Operation.set, .get] {
            for depth in depths {
                if !json { printError("measuring \(target): \(operation.rawValue) -P \(depth)") }
                let result = try await BenchLoad(
                    port: port, operation: operation, clients: clients, pipeline: depth, valueSize: valueSize, keySpace: 100_000
                ).run(for: load)
                points.append(BenchReport.Point(target: target, operation: operation, pipeline: depth, result: result))
            }
        }
        let memory = peakMemory()
        for index in points.indices { points[index].peakMemoryBytes = memory }
        return points
    }

    private static func depths(_ text: String) -> [Int]? {
        let depths = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard depths.allSatisfy({ $0 != nil && (1...1024).contains($0!) }) else { return nil }
        return depths.map { $0! }
    }
}
