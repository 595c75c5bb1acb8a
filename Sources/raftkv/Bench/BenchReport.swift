import Foundation

/// What `raftkv bench` measured: written as `bench-report.json`, printed as a table.
struct BenchReport: Codable, Sendable {
    /// One server, one operation, one pipeline depth.
    struct Point: Codable, Sendable {
        var target: String
        var operation: BenchLoad.Operation
        var pipeline: Int
        var requestsPerSecond: Double
        var requests: Int
        var errors: Int
        var p50Milliseconds: Double?
        var p99Milliseconds: Double?
        var p999Milliseconds: Double?
        /// The latency distribution: (milliseconds, fraction of replies at most that slow).
        var cdf: [[Double]]
        var peakMemoryBytes: Int64?

        init(target: String, operation: BenchLoad.Operation, pipeline: Int, result: BenchLoad.Result) {
            self.target = target
            self.operation = operation
            self.pipeline = pipeline
            requestsPerSecond = result.perSecond
            requests = result.requests
            errors = result.errors
            let sorted = result.latencies.sorted()
            func quantile(_ fraction: Double) -> Double? {
                Percentile.of(sorted: sorted, fraction).map { Double($0) / 1e6 }
            }
            p50Milliseconds = quantile(0.5)
            p99Milliseconds = quantile(0.99)
            p999Milliseconds = quantile(0.999)
            let fractions = (1...40).map { Double($0) / 40 } + [0.99, 0.999]
            cdf = fractions.sorted().compactMap { fraction in quantile(fraction).map { [$0, fraction] } }
        }
    }

    var clients: Int
    var valueSize: Int
    var secondsPerPoint: Double
    var points: [Point]
    var notes: [String] = []

    var table: String {
        var lines = [
            "target                       op   -P   requests/s   p50 ms   p99 ms   errors   peak RSS",
            String(repeating: "-", count: 90),
        ]
        for point in points {
            let memory = point.peakMemoryBytes.map { Figures.bytes($0) } ?? "-"
            lines.append(
                point.target.padding(toLength: 29, withPad: " ", startingAt: 0) + pad(point.operation.rawValue, 5)
                    + pad("\(point.pipeline)", 5) + Figures.grouped(Int(point.requestsPerSecond)).leftPadded(to: 10, with: " ")
                    + Self.number(point.p50Milliseconds).leftPadded(to: 9, with: " ")
                    + Self.number(point.p99Milliseconds).leftPadded(to: 9, with: " ")
                    + "\(point.errors)".leftPadded(to: 9, with: " ") + "   " + memory)
        }
        return lines.joined(separator: "\n")
    }

    private func pad(_ text: String, _ width: Int) -> String { text.padding(toLength: width, withPad: " ", startingAt: 0) }

    private static func number(_ value: Double?) -> String {
        value.map { Figures.decimal($0, 2) } ?? "-"
    }

    func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }

    func write(to path: String) throws {
        try encoded().write(to: URL(fileURLWithPath: path))
    }
}
