import Foundation

/// What the demo measured and concluded: written as `demo-report.json`, and printed as the
/// summary table.
struct DemoReport: Codable, Sendable {
    struct Member: Codable, Sendable {
        var id: Int
        var peerAddress: String
        var clientAddress: String
    }

    /// Something that happened to the cluster, `at` seconds after the load began.
    struct Event: Codable, Sendable {
        enum Kind: String, Codable, Sendable {
            case kill, election, snapshot, restart, caughtUp = "caught-up"
        }

        var kind: Kind
        var at: Double
        var detail: String
    }

    struct Operations: Codable, Sendable {
        var succeeded: Int
        var failed: Int
        var perSecond: Double
        var p50Milliseconds: Double?
        var p99Milliseconds: Double?
    }

    struct Failover: Codable, Sendable {
        var killedLeader: Int
        var newLeader: Int?
        /// From the kill until a member reported itself leader.
        var electionMilliseconds: Double?
        /// From the kill until the first write invoked after it was acknowledged.
        var writesUnavailableMilliseconds: Double?
        /// From the kill until the last failed operation before the restart.
        var errorWindowMilliseconds: Double?
    }

    struct Snapshot: Codable, Sendable {
        var node: Int
        var index: UInt64
        var bytes: Int64
    }

    struct CatchUp: Codable, Sendable {
        var node: Int
        var seconds: Double?
        var throughInstallSnapshot: Bool
    }

    /// One interval of the timeline.
    struct Interval: Codable, Sendable {
        var at: Double
        var operationsPerSecond: Double
        var failedPerSecond: Double
        var p99Milliseconds: Double?
    }

    var passed: Bool
    var checks: [CheckResult]
    var durationSeconds: Double
    var clients: Int
    var members: [Member]
    var operations: Operations
    var failover: Failover?
    var catchUp: CatchUp?
    var commitIndex: UInt64
    var snapshots: [Snapshot]
    var events: [Event]
    var timeline: [Interval]

    /// The summary table, one line a figure.
    var summary: String {
        var rows: [(String, String)] = []
        rows.append(("operations", "\(Self.grouped(operations.succeeded)) acknowledged, \(Self.grouped(operations.failed)) failed or refused"))
        rows.append(("throughput", "\(Self.grouped(Int(operations.perSecond))) ops/s over \(Self.decimal(durationSeconds, 1)) s, \(clients) clients"))
        rows.append(("latency", "p50 \(Self.milliseconds(operations.p50Milliseconds)), p99 \(Self.milliseconds(operations.p99Milliseconds))"))
        if let failover {
            rows.append((
                "failover",
                "n\(failover.killedLeader) killed; n\(failover.newLeader.map(String.init) ?? "?") elected after \(Self.milliseconds(failover.electionMilliseconds)); "
                    + "writes unavailable for \(Self.milliseconds(failover.writesUnavailableMilliseconds))"
            ))
        }
        if let catchUp {
            let how = catchUp.throughInstallSnapshot ? "through InstallSnapshot" : "from the leader's log"
            rows.append(("catch-up", "n\(catchUp.node) caught up \(how) in \(catchUp.seconds.map { Self.decimal($0, 2) + " s" } ?? "—")"))
        }
        rows.append(("entries", "commit index \(Self.grouped(Int(commitIndex)))"))
        for snapshot in snapshots {
            rows.append(("snapshot n\(snapshot.node)", "index \(Self.grouped(Int(snapshot.index))), \(Self.bytes(snapshot.bytes)) compressed"))
        }
        let width = rows.map(\.0.count).max() ?? 0
        return rows.map { "  " + $0.0.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + $0.1 }.joined(separator: "\n")
    }

    func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: URL(fileURLWithPath: path))
    }

    static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var groups: [Substring] = []
        var end = digits.endIndex
        while end > digits.startIndex {
            let start = digits.index(end, offsetBy: -3, limitedBy: digits.startIndex) ?? digits.startIndex
            groups.insert(digits[start..<end], at: 0)
            end = start
        }
        return (value < 0 ? "-" : "") + groups.joined(separator: ",")
    }

    static func decimal(_ value: Double, _ places: Int) -> String {
        String(format: "%.\(places)f", value)
    }

    static func milliseconds(_ value: Double?) -> String {
        guard let value else { return "—" }
        return value < 10 ? decimal(value, 2) + " ms" : decimal(value, 0) + " ms"
    }

    static func bytes(_ value: Int64) -> String {
        if value >= 1 << 20 { return decimal(Double(value) / Double(1 << 20), 1) + " MiB" }
        if value >= 1 << 10 { return decimal(Double(value) / Double(1 << 10), 1) + " KiB" }
        return "\(value) B"
    }
}
