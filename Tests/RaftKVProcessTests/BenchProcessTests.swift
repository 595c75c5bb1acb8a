import Foundation
import Testing

#if canImport(FoundationXML)
import FoundationXML
#endif

/// `raftkv bench`, run briefly: every server it measures answers, and its report and chart
/// are what it says they are.
@Suite(.timeLimit(.minutes(3))) struct BenchProcessTests {
    @Test func aShortBenchMeasuresEveryServerAndWritesItsReportAndChart() throws {
        let directory = NSTemporaryDirectory() + "raftkv-bench-test-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try raftkvExecutable())
        process.arguments = ["bench", "--duration", "300ms", "--clients", "8", "--pipeline", "1,4", "--json", "--directory", directory]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(String(decoding: data, as: UTF8.self))")

        let report = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let points = try #require(report["points"] as? [[String: Any]])
        let targets = Set(points.compactMap { $0["target"] as? String })
        #expect(targets.isSuperset(of: ["raftkv, 1 node", "raftkv, 3 nodes"]), "\(targets)")
        let redisInstalled = FileManager.default.isExecutableFile(atPath: "/usr/bin/redis-server")
        #expect(targets.contains("redis, appendfsync always") == redisInstalled, "Redis is measured exactly when it is installed")
        if !redisInstalled, ProcessInfo.processInfo.environment["CI"] == "true" {
            Issue.record("redis-server is not installed, and CI=true requires it (apt-get install -y redis-server)")
        }
        #expect(points.count == targets.count * 4, "SET and GET at depths 1 and 4 for every server")
        for point in points {
            #expect((point["requests"] as? Int ?? 0) > 0, "every point answered requests: \(point)")
            #expect((point["errors"] as? Int ?? -1) == 0, "no errors: \(point)")
        }

        let chart = try Data(contentsOf: URL(fileURLWithPath: directory + "/bench-chart.svg"))
        let parser = XMLParser(data: chart)
        let ids = MarkerCollector()
        parser.delegate = ids
        #expect(parser.parse(), "the chart is well-formed XML")
        #expect(ids.ids.isSuperset(of: ["bars", "cdf"]), "\(ids.ids)")
    }
}
