import Foundation
import NIOPosix
import RaftKV
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A cluster on this machine for the demo and the benchmark: `raftkv serve` child processes
/// of this very executable on loopback, each with its own data directory and log file,
/// started, killed and restarted by pid.
final class LocalCluster: Sendable {
    struct Member: Sendable {
        let id: Int
        let peerPort: Int
        let clientPort: Int
        var dataDirectory: String
        var logFile: String
        var clientAddress: String { "127.0.0.1:\(clientPort)" }
    }

    let members: [Int: Member]
    let directory: String
    private let executable: String
    private let secretFile: String
    private let extraArguments: [String]
    /// The running children, by member id.
    private let running = Mutex<[Int: ChildProcess]>([:])
    /// Every child started and not yet stopped: what a signal handler must kill.
    static let livePids = Mutex<Set<pid_t>>([])

    /// Lays out `count` members under `directory` with free loopback ports and a new cluster
    /// secret. Starts nothing.
    init(count: Int, directory: String, extraServeArguments: [String]) throws {
        executable = try Self.ownExecutable()
        self.directory = directory
        extraArguments = extraServeArguments
        secretFile = directory + "/cluster-secret"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var random = SystemRandomNumberGenerator()
        let secret = (0..<32).map { _ in String(UInt8.random(in: 0...255, using: &random), radix: 16).leftPadded(to: 2) }
        guard FileManager.default.createFile(
            atPath: secretFile, contents: Data(secret.joined().utf8), attributes: [.posixPermissions: 0o600])
        else { throw SetupError("cannot write the cluster secret to \(secretFile)") }
        var members: [Int: Member] = [:]
        for id in 1...count {
            members[id] = Member(
                id: id, peerPort: try Self.freePort(), clientPort: try Self.freePort(),
                dataDirectory: directory + "/n\(id)", logFile: directory + "/n\(id).log")
        }
        self.members = members
    }

    var ids: [Int] { members.keys.sorted() }

    var peersFlag: String {
        ids.map { "\($0)=127.0.0.1:\(members[$0]!.peerPort)" }.joined(separator: ",")
    }

    /// The running members' pids.
    var pids: [Int: pid_t] { running.withLock { $0.mapValues(\.pid) } }

    func isRunning(_ id: Int) -> Bool { running.withLock { $0[id] != nil } }

    /// Starts member `id` as a child process, its standard output and error appended to its
    /// log file.
    func start(_ id: Int) throws {
        let member = members[id]!
        let arguments =
            [
                "serve", "--id", "\(id)", "--data-dir", member.dataDirectory,
                "--listen", "127.0.0.1:\(member.peerPort)", "--client-listen", member.clientAddress,
                "--peers", peersFlag, "--cluster-secret-file", secretFile,
            ] + extraArguments
        let child = try ChildProcess(executable: executable, arguments: arguments, logFile: member.logFile)
        Self.livePids.withLock { _ = $0.insert(child.pid) }
        running.withLock { $0[id] = child }
    }

    /// Sends SIGKILL to member `id` and waits until it is gone.
    func kill(_ id: Int) {
        guard let child = running.withLock({ $0.removeValue(forKey: id) }) else { return }
        child.stop(signal: SIGKILL)
        _ = Self.livePids.withLock { $0.remove(child.pid) }
    }

    /// Stops every running member: SIGTERM, then SIGKILL for any still there after `grace`.
    func stopAll(grace: Duration = .seconds(3)) {
        let children = running.withLock { all in
            defer { all.removeAll() }
            return Array(all.values)
        }
        for child in children { child.signal(SIGTERM) }
        let deadline = ContinuousClock.now + grace
        for child in children {
            while child.isRunning, ContinuousClock.now < deadline { usleep(20_000) }
            child.stop(signal: SIGKILL)
            _ = Self.livePids.withLock { $0.remove(child.pid) }
        }
    }

    /// SIGKILLs every child still alive: the last resort of a signal handler, which must not
    /// wait for locks held elsewhere for long.
    static func killEveryChild() {
        for pid in livePids.withLock({ $0 }) { Glibc.kill(pid, SIGKILL) }
    }

    // MARK: Talking to members

    func client(_ id: Int, replyTimeout: Duration = .seconds(2)) async throws -> RESPClient {
        try await RESPClient.connect(
            host: "127.0.0.1", port: members[id]!.clientPort, connectTimeout: .milliseconds(500), replyTimeout: replyTimeout)
    }

    /// Member `id`'s `INFO` fields, or nil when it does not answer.
    func info(_ id: Int) async -> NodeInfo? {
        guard isRunning(id), let client = try? await client(id, replyTimeout: .seconds(1)) else { return nil }
        let reply = try? await client.send(["INFO"])
        await client.close()
        guard let text = reply?.text else { return nil }
        return NodeInfo(parsing: text)
    }

    /// Sends one command to member `id` on a new connection.
    func command(_ id: Int, _ arguments: [String], replyTimeout: Duration = .seconds(10)) async throws -> RESPValue {
        let client = try await client(id, replyTimeout: replyTimeout)
        defer { Task { await client.close() } }
        return try await client.send(arguments)
    }

    /// Waits until one member leads and every other running member knows it and its client
    /// address (followers forward writes there); returns the leader and its term.
    /// - Throws: ``SetupError`` when that takes longer than `timeout`.
    func waitForLeader(timeout: Duration) async throws -> (id: Int, term: UInt64) {
        let deadline = ContinuousClock.now + timeout
        let running = ids.filter(isRunning)
        while ContinuousClock.now < deadline {
            var infos: [Int: NodeInfo] = [:]
            for id in running { infos[id] = await info(id) }
            if let leader = infos.first(where: { $0.value.isLeader }),
                infos.count == running.count,
                infos.values.allSatisfy({ $0.leaderID == leader.key && $0.fields["leader_client_addr"]?.isEmpty == false })
            {
                return (leader.key, leader.value.term)
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw SetupError("no leader was elected within \(timeout)")
    }

    /// The peak resident memory of member `id` so far, in bytes (Linux's `VmHWM`).
    func peakMemory(of id: Int) -> Int64? {
        pids[id].flatMap(Self.peakMemory(ofProcess:))
    }

    /// The peak resident memory of process `pid` so far, in bytes (Linux's `VmHWM`).
    static func peakMemory(ofProcess pid: pid_t) -> Int64? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kilobytes = line.split(separator: " ").compactMap({ Int64($0) }).first
        else { return nil }
        return kilobytes * 1024
    }

    /// The newest snapshot file of member `id` and its size in bytes.
    func newestSnapshot(of id: Int) -> (file: String, bytes: Int64)? {
        let directory = members[id]!.dataDirectory + "/snapshots"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return nil }
        var newest: (file: String, bytes: Int64, modified: Date)?
        for name in names where !name.hasSuffix(".tmp") {
            let path = directory + "/" + name
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
                attributes[.type] as? FileAttributeType == .typeRegular,
                let size = attributes[.size] as? Int64, let modified = attributes[.modificationDate] as? Date
            else { continue }
            if newest == nil || modified > newest!.modified { newest = (path, size, modified) }
        }
        return newest.map { ($0.file, $0.bytes) }
    }

    func log(of id: Int) -> String {
        (try? String(contentsOfFile: members[id]!.logFile, encoding: .utf8)) ?? ""
    }

    // MARK: Set-up

    /// This executable's path, so the children run the same build.
    private static func ownExecutable() throws -> String {
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return path }
        let argument = CommandLine.arguments[0]
        guard FileManager.default.isExecutableFile(atPath: argument) else {
            throw SetupError("cannot find this executable to start the servers (\(argument))")
        }
        return argument
    }

    /// A loopback port free at the moment of asking.
    static func freePort() throws -> Int {
        let channel = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).wait()
        defer { try? channel.close().wait() }
        guard let port = channel.localAddress?.port else { throw SetupError("cannot find a free loopback port") }
        return port
    }
}

extension String {
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
