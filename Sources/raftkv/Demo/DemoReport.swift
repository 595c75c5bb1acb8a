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
        rows.append(("operations", "\(Figures.grouped(operations.succeeded)) acknowledged, \(Figures.grouped(operations.failed)) failed or refused"))
        rows.append(("throughput", "\(Figures.grouped(Int(operations.perSecond))) ops/s over \(Figures.decimal(durationSeconds, 1)) s, \(clients) clients"))
        rows.append(("latency", "p50 \(Figures.milliseconds(operations.p50Milliseconds)), p99 \(Figures.milliseconds(operations.p99Milliseconds))"))
        if let failover {
            rows.append((
                "failover",
                "n\(failover.killedLeader) killed; n\(failover.newLeader.map(String.init) ?? "?") elected after \(Figures.milliseconds(failover.electionMilliseconds)); "
                    + "writes unavailable for \(Figures.milliseconds(failover.writesUnavailableMilliseconds))"
            ))
        }
        if let catchUp {
            let how = catchUp.throughInstallSnapshot ? "through InstallSnapshot" : "from the leader's log"
            rows.append(("catch-up", "n\(catchUp.node) caught up \(how) in \(catchUp.seconds.map { Figures.decimal($0, 2) + " s" } ?? "—")"))
        }
        rows.append(("entries", "commit index \(Figures.grouped(Int(commitIndex)))"))
        for snapshot in snapshots {
            rows.append(("snapshot n\(snapshot.node)", "index \(Figures.grouped(Int(snapshot.index))), \(Figures.bytes(snapshot.bytes)) compressed"))
        }
        let width = rows.map(\.0.count).max() ?? 0
        return rows.map { "  " + $0.0.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + $0.1 }.joined(separator: "\n")
    }

    func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: URL(fileURLWithPath: path))
    }
}
