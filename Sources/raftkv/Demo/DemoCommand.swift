import ArgumentParser
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `raftkv demo`: a real cluster of `raftkv serve` processes under load, its leader killed and
/// restarted, and every acknowledged write accounted for at the end.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Runs a three-node cluster under load, kills its leader, and checks that nothing acknowledged was lost.",
        discussion: """
            Starts `raftkv serve` child processes on free loopback ports with a new cluster \
            secret, runs a mixed SET/GET/CAS/INCR load from many clients, SIGKILLs the leader a \
            third of the way in, snapshots the survivors, restarts the killed node and lets it \
            catch up. Then it reads every acknowledged write back from every node, compares \
            the nodes' state digests, and checks the whole client history for linearizability. \
            It writes demo-report.json and demo-timeline.svg and says where.

            Exit status: 0 every check passed, 1 a check failed or the cluster did not come up, \
            64 a usage error, 130 interrupted (every child is stopped first).
            """)

    @Option(help: "How long the load runs: 20s, 90s, 2m.")
    var duration = "20s"

    @Option(help: "Concurrent clients.")
    var clients = 16

    @Option(help: "Cluster size: 3 or 5.")
    var nodes = 3

    @Option(help: "Register keys the load spreads over.")
    var keys = 200

    @Option(help: "Directory for the cluster's data, logs and the reports (default: a new temporary directory).")
    var directory: String?

    @Flag(help: "Leave the cluster running at the end and print how to talk to it.")
    var keep = false

    @Flag(help: ArgumentHelp("Self-test: every node loses the first write to one key, so a check must fail.", visibility: .hidden))
    var plantLostWrite = false

    func validate() throws {
        guard Duration(argument: duration) != nil else {
            throw ValidationError("--duration takes a positive number with ms, s or m, such as 20s")
        }
        guard (1...1024).contains(clients) else { throw ValidationError("--clients must be between 1 and 1024") }
        guard nodes == 3 || nodes == 5 else { throw ValidationError("--nodes must be 3 or 5") }
        guard (1...100_000).contains(keys) else { throw ValidationError("--keys must be between 1 and 100000") }
    }

    func run() async throws {
        let load = Duration(argument: duration)!
        let root = try Self.makeDirectory(directory)
        let console = DemoConsole()
        // The servers stop with the demo even if it is killed outright, unless asked to stay.
        var serveArguments = keep ? [] : ["--exit-with-parent"]
        if plantLostWrite { serveArguments += ["--plant-lost-write", DemoWorkload.ledgerKey(client: 0, sequence: 1)] }
        let cluster: LocalCluster
        do {
            cluster = try LocalCluster(count: nodes, directory: root + "/cluster", extraServeArguments: serveArguments)
        } catch {
            printError("raftkv demo: \(error)")
            throw ExitCode(1)
        }
        let signalSources = Self.stopChildrenOnSignals(console: console)
        defer { withExtendedLifetime(signalSources) {} }
        let scenario = DemoScenario(
            cluster: cluster, console: console, load: load, clients: clients, registerKeys: keys, reportDirectory: root)
        let passed: Bool
        do {
            passed = try await scenario.run()
        } catch {
            console.endProgress()
            printError("raftkv demo: \(error)")
            printError("the servers' logs: \(cluster.directory)/n*.log")
            cluster.stopAll()
            throw ExitCode(1)
        }
        if keep {
            console.line("The cluster keeps running (--keep). Try:")
            for id in cluster.ids {
                console.line("  redis-cli -p \(cluster.members[id]!.clientPort) INFO replication      # n\(id), pid \(cluster.pids[id].map(String.init) ?? "-")")
            }
            console.line("  redis-cli -p \(cluster.members[cluster.ids[0]]!.clientPort) SET greeting hello")
            console.line("Stop it with: kill \(cluster.pids.values.map(String.init).joined(separator: " "))")
        } else {
            cluster.stopAll()
            for id in cluster.ids { try? FileManager.default.removeItem(atPath: cluster.members[id]!.dataDirectory) }
        }
        if !passed { throw ExitCode(1) }
    }

    /// The run's directory: the one given (created if missing), or a new temporary one.
    private static func makeDirectory(_ requested: String?) throws -> String {
        let path =
            requested
            ?? (NSTemporaryDirectory() + "raftkv-demo-" + String(Int(Date().timeIntervalSince1970)) + "-" + String(getpid()))
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            printError("raftkv demo: cannot create \(path): \(error.localizedDescription)")
            throw ExitCode(1)
        }
        return path
    }

    /// On SIGINT or SIGTERM, kills every child by pid and exits 130, so an interrupted demo
    /// leaves no server behind. The sources must be kept alive as long as that holds.
    private static func stopChildrenOnSignals(console: DemoConsole) -> [any DispatchSourceSignal] {
        [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                LocalCluster.killEveryChild()
                console.endProgress()
                printError("raftkv demo: interrupted; every server it started was stopped")
                Glibc.exit(130)
            }
            source.resume()
            return source
        }
    }
}
