import Foundation
import NIOPosix
import RaftKV
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The built `raftkv` executable, next to the test bundle in the build products directory.
func raftkvExecutable() throws -> String {
    try builtExecutable("raftkv")
}

/// The built executable `name`, next to the test bundle in the build products directory.
func builtExecutable(_ name: String) throws -> String {
    var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = directory.appendingPathComponent(name).path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        directory = directory.deletingLastPathComponent()
    }
    throw ProcessTestError("\(name) executable not found near \(CommandLine.arguments[0])")
}

struct ProcessTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A loopback port free at the moment of asking (bound to port 0, then closed).
func freePort() throws -> Int {
    let channel = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .bind(host: "127.0.0.1", port: 0).wait()
    let port = channel.localAddress!.port!
    try channel.close().wait()
    return port
}

/// Three (or more) `raftkv serve` processes on loopback, each restartable with its flags.
final class ServerCluster: @unchecked Sendable {
    struct Member {
        var id: Int
        var peerPort: Int
        var clientPort: Int
        var secretFile: String
    }

    let directory: String
    let executable: String
    /// The members `--peers` founds the cluster with; later ones join (`addJoiner`).
    let founders: [Int]
    private var storedMembers: [Int: Member] = [:]
    private var storedServingIDs: Set<Int>
    private var joiners: Set<Int> = []
    private var extraArguments: [Int: [String]] = [:]
    private var processes: [Int: Process] = [:]
    private let lock = NSLock()

    /// Every member ever created, founding or joining.
    var members: [Int: Member] { lock.withLock { storedMembers } }

    /// The members the load's clients connect to (all founders at first).
    var servingIDs: [Int] {
        get { lock.withLock { storedServingIDs.sorted() } }
        set { lock.withLock { storedServingIDs = Set(newValue) } }
    }

    init(ids: [Int], secret: String = "test-cluster-secret") throws {
        executable = try raftkvExecutable()
        directory = NSTemporaryDirectory() + "raftkv-process-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let secretFile = directory + "/secret"
        try Data(secret.utf8).write(to: URL(fileURLWithPath: secretFile))
        founders = ids.sorted()
        storedServingIDs = Set(ids)
        for id in ids {
            storedMembers[id] = Member(id: id, peerPort: try freePort(), clientPort: try freePort(), secretFile: secretFile)
        }
    }

    /// The founding list, the same for every node (a joining one derives the cluster id from it).
    var peersFlag: String {
        let members = self.members
        return founders.map { "\($0)=127.0.0.1:\(members[$0]!.peerPort)" }.joined(separator: ",")
    }

    /// Creates member `id`, which starts with `--join` and waits to be added.
    func addJoiner(_ id: Int) throws {
        let member = Member(id: id, peerPort: try freePort(), clientPort: try freePort(), secretFile: directory + "/secret")
        lock.withLock {
            storedMembers[id] = member
            joiners.insert(id)
        }
    }

    /// Gives member `id` its own secret file holding `secret`.
    func setSecret(_ secret: String, for id: Int) throws {
        let file = directory + "/secret-\(id)"
        try Data(secret.utf8).write(to: URL(fileURLWithPath: file))
        lock.withLock { storedMembers[id]!.secretFile = file }
    }

    /// Gives member `id` more `raftkv serve` flags, from its next start on.
    func setExtraArguments(_ arguments: [String], for id: Int) {
        lock.withLock { extraArguments[id] = arguments }
    }

    /// Starts member `id`; `peers` replaces the founding list as its `--peers`.
    func start(_ id: Int, peers: String? = nil) throws {
        let member = members[id]!
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = [
            "serve", "--id", "\(id)", "--data-dir", directory + "/n\(id)",
            "--listen", "127.0.0.1:\(member.peerPort)", "--client-listen", "127.0.0.1:\(member.clientPort)",
            "--peers", peers ?? peersFlag, "--cluster-secret-file", member.secretFile,
        ] + (lock.withLock { joiners.contains(id) } ? ["--join"] : []) + lock.withLock { extraArguments[id] ?? [] }
        let log = directory + "/n\(id).log"
        if !FileManager.default.fileExists(atPath: log) { _ = FileManager.default.createFile(atPath: log, contents: nil) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        handle.seekToEndOfFile()
        process.standardError = handle
        process.standardOutput = handle
        try process.run()
        lock.withLock { processes[id] = process }
    }

    func startAll() throws {
        for id in members.keys.sorted() { try start(id) }
    }

    /// Sends `signal` to member `id` by pid and, for SIGKILL and SIGTERM, waits for it to exit.
    func signal(_ id: Int, _ signal: Int32) {
        guard let process = lock.withLock({ processes[id] }) else { return }
        kill(process.processIdentifier, signal)
        if signal == SIGKILL || signal == SIGTERM {
            process.waitUntilExit()
            _ = lock.withLock { processes.removeValue(forKey: id) }
        }
    }

    /// Runs `raftkv member ARGUMENTS --server <member id's client address>` to its end, within
    /// `timeout` (then it is killed); returns its exit status and its output, both streams.
    func member(_ arguments: [String], via id: Int, timeout: Duration = .seconds(90)) async throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["member"] + arguments + ["--server", "127.0.0.1:\(members[id]!.clientPort)"]
        let output = directory + "/member-\(UUID().uuidString).out"
        _ = FileManager.default.createFile(atPath: output, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        defer { try? handle.close() }
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return (process.terminationStatus, (try? String(contentsOfFile: output, encoding: .utf8)) ?? "")
    }

    func stopAll() {
        for id in members.keys { signal(id, SIGKILL) }
    }

    func remove() {
        stopAll()
        try? FileManager.default.removeItem(atPath: directory)
    }

    func log(of id: Int) -> String {
        (try? String(contentsOfFile: directory + "/n\(id).log", encoding: .utf8)) ?? ""
    }

    func client(_ id: Int, timeout: Duration = .seconds(5)) async throws -> RESPClient {
        try await RESPClient.connect(
            host: "127.0.0.1", port: members[id]!.clientPort, connectTimeout: .seconds(1), replyTimeout: timeout)
    }

    /// `INFO`'s fields on member `id`, or nil when it does not answer.
    func info(_ id: Int) async -> [String: String]? {
        guard let client = try? await client(id, timeout: .seconds(2)) else { return nil }
        defer { Task { await client.close() } }
        guard case .bulkString(let bytes) = try? await client.send(["INFO"]) else { return nil }
        var fields: [String: String] = [:]
        for line in String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isNewline) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[String(line[..<colon])] = String(line[line.index(after: colon)...])
        }
        return fields
    }

    /// Waits until every member in `ids` names `leader` and knows its client address.
    func followersKnow(_ leader: Int, ids: [Int], timeout: Duration = .seconds(20)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            var all = true
            for id in ids {
                let info = await info(id)
                if info?["leader_id"] != "\(leader)" || info?["leader_client_addr"]?.isEmpty != false { all = false }
            }
            if all { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    /// The member that says it leads, once the ones in `among` agree on one, within `timeout`.
    func leader(among ids: [Int]? = nil, timeout: Duration = .seconds(20)) async -> Int? {
        let ids = ids ?? members.keys.sorted()
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            for id in ids {
                // Ready: it leads and has recorded its client address, so followers can forward.
                if let info = await info(id), info["role"] == "leader",
                    let leader = info["leader_id"].flatMap(Int.init), leader == id,
                    info["leader_client_addr"]?.isEmpty == false
                {
                    return id
                }
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return nil
    }
}
