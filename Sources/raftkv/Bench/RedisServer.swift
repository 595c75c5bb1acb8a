import Foundation
import NIOPosix
import RaftKV

/// Debian's `redis-server`, started on a free loopback port with every write fsynced before
/// it is answered (`--appendonly yes --appendfsync always`): the durable single-node baseline.
struct RedisServer: Sendable {
    let executable: String

    /// The installed `redis-server`, if any.
    static func installed() -> RedisServer? {
        ["/usr/bin/redis-server", "/usr/local/bin/redis-server"]
            .first(where: FileManager.default.isExecutableFile(atPath:))
            .map(RedisServer.init(executable:))
    }

    /// A running server.
    final class Running: Sendable {
        let port: Int
        private let child: ChildProcess

        init(port: Int, child: ChildProcess) {
            self.port = port
            self.child = child
        }

        var peakMemory: Int64? { LocalCluster.peakMemory(ofProcess: child.pid) }

        func stop() {
            child.stop(signal: SIGTERM)
        }
    }

    /// Starts the server with its data in `directory` and waits until it answers `PING`.
    /// - Throws: ``SetupError`` when it does not start or answer within 10 s.
    func start(directory: String) async throws -> Running {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let port = try LocalCluster.freePort()
        let child = try ChildProcess(
            executable: executable,
            arguments: [
                "--port", "\(port)", "--bind", "127.0.0.1", "--dir", directory, "--appendonly", "yes",
                "--appendfsync", "always", "--save", "", "--daemonize", "no",
            ],
            logFile: directory + "/redis.log")
        let running = Running(port: port, child: child)
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if let client = try? await RESPClient.connect(host: "127.0.0.1", port: port, replyTimeout: .seconds(1)) {
                let reply = try? await client.send(["PING"])
                await client.close()
                if reply == .simpleString("PONG") { return running }
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        running.stop()
        throw SetupError("redis-server did not answer on 127.0.0.1:\(port) within 10 s (see \(directory)/redis.log)")
    }
}
