import Foundation
import Testing

#if canImport(FoundationXML)
import FoundationXML
#endif
#if canImport(Glibc)
import Glibc
#endif

/// `raftkv demo`, the README's first command, run as a user runs it: its exit status, its
/// report and timeline, a planted fault it must catch, and Ctrl-C.
@Suite(.serialized, .timeLimit(.minutes(4))) struct DemoProcessTests {
    /// A demo run in its own directory, its standard output and error in files there.
    struct DemoRun {
        let directory: String
        let process: Process

        init(_ arguments: [String]) throws {
            directory = NSTemporaryDirectory() + "raftkv-demo-test-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            process = Process()
            process.executableURL = URL(fileURLWithPath: try raftkvExecutable())
            process.arguments = ["demo", "--directory", directory] + arguments
            for name in ["stdout", "stderr"] {
                guard FileManager.default.createFile(atPath: directory + "/" + name, contents: nil) else {
                    throw ProcessTestError("cannot create \(directory)/\(name)")
                }
            }
            process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/stdout"))
            process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/stderr"))
            try process.run()
        }

        var output: String { (try? String(contentsOfFile: directory + "/stdout", encoding: .utf8)) ?? "" }
        var errors: String { (try? String(contentsOfFile: directory + "/stderr", encoding: .utf8)) ?? "" }

        /// Waits for the demo to exit, at most `timeout`; kills it if it does not.
        func wait(timeout: Duration = .seconds(150)) async -> Int32? {
            let deadline = ContinuousClock.now + timeout
            while process.isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(100)) }
            guard !process.isRunning else {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                return nil
            }
            return process.terminationStatus
        }

        func remove() { try? FileManager.default.removeItem(atPath: directory) }
    }

    @Test func aShortDemoPassesEveryCheckAndWritesItsReportAndTimeline() async throws {
        let run = try DemoRun(["--duration", "5s"])
        defer { run.remove() }
        let status = await run.wait()
        #expect(status == 0, "the demo passes: \(run.output)\n\(run.errors)")

        let data = try Data(contentsOf: URL(fileURLWithPath: run.directory + "/demo-report.json"))
        let report = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(report["passed"] as? Bool == true)
        let checks = try #require(report["checks"] as? [[String: Any]])
        #expect(checks.count >= 3, "the three checks are reported: \(checks)")
        #expect(checks.allSatisfy { $0["passed"] as? Bool == true }, "\(checks)")
        let operations = try #require(report["operations"] as? [String: Any])
        #expect((operations["succeeded"] as? Int ?? 0) > 100, "the load made progress: \(operations)")
        let kinds = Set((report["events"] as? [[String: Any]] ?? []).compactMap { $0["kind"] as? String })
        #expect(kinds.isSuperset(of: ["kill", "election", "snapshot", "restart", "caught-up"]), "\(kinds)")

        let svg = try Data(contentsOf: URL(fileURLWithPath: run.directory + "/demo-timeline.svg"))
        let parser = XMLParser(data: svg)
        let markers = MarkerCollector()
        parser.delegate = markers
        #expect(parser.parse(), "the timeline is well-formed XML: \(parser.parserError.map { "\($0)" } ?? "")")
        #expect(markers.ids.isSuperset(of: ["marker-kill", "marker-election", "marker-snapshot", "marker-restart", "marker-caught-up"]),
            "every event is marked: \(markers.ids)")
        #expect(markers.ids.contains("panel-throughput") && markers.ids.contains("panel-p99"))
        #expect(!FileManager.default.fileExists(atPath: run.directory + "/cluster/n1/log"), "the servers' data is removed")
    }

    @Test func aLostWriteFailsTheDemoAndNamesTheCheck() async throws {
        let run = try DemoRun(["--duration", "3s", "--plant-lost-write"])
        defer { run.remove() }
        let status = await run.wait()
        #expect(status == 1, "a planted lost write fails the demo: \(run.output)\n\(run.errors)")
        #expect(run.output.contains("FAIL  every acknowledged write is present on every node"), "\(run.output)")
        #expect(run.output.contains("led:0:1"), "the lost key is named: \(run.output)")
        let data = try Data(contentsOf: URL(fileURLWithPath: run.directory + "/demo-report.json"))
        let report = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        #expect(report?["passed"] as? Bool == false)
    }

    @Test func ctrlCStopsEveryServerTheDemoStarted() async throws {
        let run = try DemoRun(["--duration", "60s"])
        defer { run.remove() }
        let pids = try await Self.servers(of: run)
        kill(run.process.processIdentifier, SIGINT)
        let status = await run.wait(timeout: .seconds(20))
        #expect(status == 130, "an interrupted demo exits 130: \(run.errors)")
        for pid in pids { #expect(await Self.isGone(pid, within: .seconds(5)), "server pid \(pid) was stopped") }
    }

    @Test func theServersOfAKilledDemoStopByThemselves() async throws {
        let run = try DemoRun(["--duration", "60s"])
        defer { run.remove() }
        let pids = try await Self.servers(of: run)
        kill(run.process.processIdentifier, SIGKILL)
        _ = await run.wait(timeout: .seconds(5))
        for pid in pids {
            let gone = await Self.isGone(pid, within: .seconds(10))
            if !gone { kill(pid, SIGKILL) }
            #expect(gone, "server pid \(pid) noticed its parent was gone and stopped")
        }
    }

    /// The servers' pids, from the cluster table the demo prints once a leader is elected.
    static func servers(of run: DemoRun) async throws -> [pid_t] {
        var pids: [pid_t] = []
        let deadline = ContinuousClock.now + .seconds(60)
        while pids.count < 3, ContinuousClock.now < deadline, run.process.isRunning {
            try await Task.sleep(for: .milliseconds(100))
            pids = run.output.split(separator: "\n").compactMap { line in
                let fields = line.split(separator: " ")
                guard fields.count > 2, fields[0].hasPrefix("n"), Int(fields[0].dropFirst()) != nil else { return nil }
                return pid_t(fields[1])
            }
        }
        try #require(pids.count == 3, "the demo lists three servers: \(run.output)\n\(run.errors)")
        try await Task.sleep(for: .seconds(1))
        return pids
    }

    /// Whether `pid` stops running within `timeout`.
    static func isGone(_ pid: pid_t, within timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while !isGone(pid), ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(100)) }
        return isGone(pid)
    }

    /// Whether `pid` no longer runs: no such process, or a zombie waiting to be reaped.
    static func isGone(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
        guard let close = stat.lastIndex(of: ")") else { return false }
        return stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
    }
}

/// Collects the `id` attributes of an XML document's elements.
final class MarkerCollector: NSObject, XMLParserDelegate {
    var ids: Set<String> = []

    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        if let id = attributes["id"] { ids.insert(id) }
    }
}
