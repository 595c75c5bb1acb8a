import Foundation
import RaftKV

/// The demo's script: bring the cluster up, load it, kill the leader a third of the way in,
/// snapshot the survivors halfway, restart the killed node, then check and report.
struct DemoScenario: Sendable {
    let cluster: LocalCluster
    let console: DemoConsole
    let load: Duration
    let clients: Int
    let registerKeys: Int
    let reportDirectory: String

    /// Runs the demo; returns whether every check passed.
    /// - Throws: ``SetupError`` when the cluster cannot be started or loses its quorum for good.
    func run() async throws -> Bool {
        let loadSeconds = load.inSeconds
        console.line(
            "raftkv demo: \(cluster.ids.count) nodes on loopback, \(clients) clients, \(Figures.decimal(loadSeconds, 0)) s of SET/GET/CAS/INCR")
        console.line("  files: \(reportDirectory)")
        for id in cluster.ids { try cluster.start(id) }
        let (leader, term) = try await cluster.waitForLeader(timeout: .seconds(30))
        console.line()
        console.line("  node  pid       peer              client            role")
        for id in cluster.ids {
            let member = cluster.members[id]!
            console.line(
                "  n\(id)    \(String(cluster.pids[id] ?? 0).padding(toLength: 8, withPad: " ", startingAt: 0))  "
                    + "127.0.0.1:\(member.peerPort)".padding(toLength: 16, withPad: " ", startingAt: 0) + "  "
                    + member.clientAddress.padding(toLength: 16, withPad: " ", startingAt: 0) + "  "
                    + (id == leader ? "leader (term \(term))" : "follower"))
        }
        console.line()

        let recorder = DemoRecorder()
        let workload = DemoWorkload(cluster: cluster, recorder: recorder, registerKeyCount: registerKeys)
        let monitor = DemoMonitor(cluster: cluster)
        let events = DemoEvents(recorder: recorder, console: console)

        let monitoring = Task { await monitor.run() }
        let progress = Task { await showProgress(recorder: recorder, monitor: monitor) }
        let loading = Task { await workload.run(clients: clients) }

        // A third of the way in: kill the leader.
        try await sleep(until: loadSeconds / 3, recorder: recorder)
        let victim = monitor.leader?.id ?? leader
        let oldTerm = monitor.leader?.info.term ?? term
        let killedAt = recorder.now
        cluster.kill(victim)
        events.note(.kill, "n\(victim)", message: "SIGKILL n\(victim), the leader (term \(oldTerm))")
        let survivors = cluster.ids.filter { $0 != victim }
        var newLeader: Int?
        var electedAt: UInt64?
        let electionDeadline = ContinuousClock.now + .seconds(15)
        while newLeader == nil, ContinuousClock.now < electionDeadline {
            if let info = await firstLeader(among: survivors), info.info.term > oldTerm {
                newLeader = info.id
                electedAt = recorder.now
                events.note(
                    .election, "n\(info.id)",
                    message: "n\(info.id) elected leader of term \(info.info.term), \(Figures.milliseconds(Double(recorder.now - killedAt) / 1e6)) after the kill")
            } else {
                try await Task.sleep(for: .milliseconds(10))
            }
        }

        // Halfway: the survivors snapshot, so their logs no longer reach back to the killed node.
        try await sleep(until: loadSeconds / 2, recorder: recorder)
        var snapshots: [DemoReport.Snapshot] = []
        for id in survivors {
            guard case .integer(let index) = try? await cluster.command(id, ["RAFTKV.SNAPSHOT"]) else { continue }
            let bytes = cluster.newestSnapshot(of: id)?.bytes ?? 0
            snapshots.append(DemoReport.Snapshot(node: id, index: UInt64(index), bytes: bytes))
        }
        if !snapshots.isEmpty {
            events.note(
                .snapshot, snapshots.map { "n\($0.node)" }.joined(separator: ", "),
                message: "snapshot on " + snapshots.map { "n\($0.node) at index \($0.index) (\(Figures.bytes($0.bytes)))" }.joined(separator: ", "))
        }

        // Then restart the killed node: it is behind the survivors' logs and must catch up.
        try await sleep(until: loadSeconds * 0.55, recorder: recorder)
        let receivedBefore = Self.receivedSnapshots(in: cluster.log(of: victim))
        try cluster.start(victim)
        let restartedAt = recorder.now
        events.note(.restart, "n\(victim)", message: "n\(victim) restarted")
        let catchingUp = Task { () -> UInt64? in
            // Caught up: applied what the leader had committed when the node came back.
            let deadline = ContinuousClock.now + load + .seconds(30)
            var target: UInt64?
            while target == nil, ContinuousClock.now < deadline {
                target = await firstLeader(among: survivors)?.info.commitIndex
                if target == nil { try? await Task.sleep(for: .milliseconds(20)) }
            }
            while let target, ContinuousClock.now < deadline {
                if let info = await cluster.info(victim), info.appliedIndex >= target {
                    let how = Self.receivedSnapshots(in: cluster.log(of: victim)) > receivedBefore ? "through InstallSnapshot" : "from the leader's log"
                    events.note(
                        .caughtUp, "n\(victim)",
                        message: "n\(victim) caught up \(how), \(Figures.decimal(Double(recorder.now - restartedAt) / 1e9, 2)) s after its restart")
                    return recorder.now
                }
                try? await Task.sleep(for: .milliseconds(50))
            }
            return nil
        }

        try await sleep(until: loadSeconds, recorder: recorder)
        recorder.loadStopped.store(true, ordering: .relaxed)
        await loading.value
        let loadEnded = recorder.now
        progress.cancel()
        await progress.value
        console.endProgress()
        let caughtUpAt = await catchingUp.value
        let caughtUpAfter = caughtUpAt.map { Double($0 - restartedAt) / 1e9 }
        let throughSnapshot = Self.receivedSnapshots(in: cluster.log(of: victim)) > receivedBefore
        if caughtUpAt == nil { console.line("  n\(victim) did not catch up") }
        monitoring.cancel()
        await monitoring.value

        console.line()
        console.line("Checking:")
        let checks = DemoChecks(cluster: cluster, recorder: recorder, workload: workload)
        var results: [CheckResult] = []
        for check in [checks.acknowledgedWritesArePresent, checks.digestsAreEqual, checks.historyIsLinearizable] {
            let result = await check()
            results.append(result)
            console.line("  \(result.passed ? "PASS" : "FAIL")  \(result.name)")
            console.line("        \(result.detail)")
        }
        if caughtUpAfter == nil {
            results.append(CheckResult(name: "the restarted node caught up", passed: false, detail: "n\(victim) never reached the leader's commit index"))
        }

        var commitIndex: UInt64 = 0
        for id in cluster.ids { commitIndex = max(commitIndex, await cluster.info(id)?.commitIndex ?? 0) }
        let report = DemoReport(
            passed: results.allSatisfy(\.passed), checks: results, durationSeconds: Double(loadEnded) / 1e9, clients: clients,
            members: cluster.ids.map {
                DemoReport.Member(id: $0, peerAddress: "127.0.0.1:\(cluster.members[$0]!.peerPort)", clientAddress: cluster.members[$0]!.clientAddress)
            },
            operations: Self.operations(recorder: recorder, over: loadEnded),
            failover: DemoReport.Failover(
                killedLeader: victim, newLeader: newLeader,
                electionMilliseconds: electedAt.map { Double($0 - killedAt) / 1e6 },
                writesUnavailableMilliseconds: Self.firstWriteAcknowledged(after: killedAt, recorder: recorder).map { Double($0 - killedAt) / 1e6 },
                errorWindowMilliseconds: Self.lastFailure(between: killedAt, and: restartedAt, recorder: recorder).map { Double($0 - killedAt) / 1e6 }),
            catchUp: DemoReport.CatchUp(node: victim, seconds: caughtUpAfter, throughInstallSnapshot: throughSnapshot),
            commitIndex: commitIndex, snapshots: snapshots, events: events.all,
            timeline: Self.timeline(recorder.buckets, loadEnded: loadEnded))

        let reportPath = reportDirectory + "/demo-report.json"
        let timelinePath = reportDirectory + "/demo-timeline.svg"
        try report.write(to: reportPath)
        try DemoTimeline.svg(report: report).write(toFile: timelinePath, atomically: true, encoding: .utf8)
        console.line()
        console.line("Summary:")
        console.line(report.summary)
        console.line()
        console.line("  report:   \(reportPath)")
        console.line("  timeline: \(timelinePath)")
        console.line()
        let failed = results.filter { !$0.passed }
        console.line(failed.isEmpty ? "Every check passed." : "FAILED: " + failed.map(\.name).joined(separator: "; "))
        return failed.isEmpty
    }

    // MARK: Phases

    private func firstLeader(among ids: [Int]) async -> (id: Int, info: NodeInfo)? {
        for id in ids {
            if let info = await cluster.info(id), info.isLeader { return (id, info) }
        }
        return nil
    }

    private func sleep(until seconds: Double, recorder: DemoRecorder) async throws {
        let remaining = seconds - Double(recorder.now) / 1e9
        if remaining > 0 { try await Task.sleep(for: .milliseconds(Int64(remaining * 1000))) }
    }

    private func showProgress(recorder: DemoRecorder, monitor: DemoMonitor) async {
        let interval: Duration = console.isTerminal ? .milliseconds(250) : .seconds(2)
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            if Task.isCancelled { break }
            let rate = recorder.recentRate()
            let leader = monitor.leader
            var line = String(format: "  [%5.1fs] ", Double(recorder.now) / 1e9)
            line += "\(Figures.grouped(Int(rate.perSecond))) ops/s".padding(toLength: 14, withPad: " ", startingAt: 0)
            line += "  p99 " + Figures.milliseconds(rate.p99.map { Double($0) / 1e6 }).padding(toLength: 9, withPad: " ", startingAt: 0)
            if let leader {
                line += "  leader n\(leader.id)  term \(leader.info.term)  commit \(Figures.grouped(Int(leader.info.commitIndex)))"
            } else {
                line += "  no leader"
            }
            console.showProgress(line)
        }
    }

    // MARK: Figures

    private static func receivedSnapshots(in log: String) -> Int {
        log.components(separatedBy: "received a snapshot from the leader").count - 1
    }

    private static func operations(recorder: DemoRecorder, over nanoseconds: UInt64) -> DemoReport.Operations {
        let buckets = recorder.buckets
        let latencies = recorder.allLatencies
        let succeeded = buckets.reduce(0) { $0 + $1.succeeded }
        return DemoReport.Operations(
            succeeded: succeeded, failed: buckets.reduce(0) { $0 + $1.failed },
            perSecond: Double(succeeded) / max(Double(nanoseconds) / 1e9, 0.001),
            p50Milliseconds: Percentile.of(latencies, 0.5).map { Double($0) / 1e6 },
            p99Milliseconds: Percentile.of(latencies, 0.99).map { Double($0) / 1e6 })
    }

    /// When the first write invoked after `time` was acknowledged.
    private static func firstWriteAcknowledged(after time: UInt64, recorder: DemoRecorder) -> UInt64? {
        let writes = recorder.history.compactMap { operation -> UInt64? in
            guard !operation.command.isReadOnly, operation.invokedAt >= time,
                case .completed(.ok, let at) = operation.outcome
            else { return nil }
            return at
        }
        let increments = recorder.increments.values.joined().compactMap { $0.invokedAt >= time ? $0.completedAt : nil }
        return (writes + increments).min()
    }

    /// The end of the last interval holding a failed operation between `start` and `end`.
    private static func lastFailure(between start: UInt64, and end: UInt64, recorder: DemoRecorder) -> UInt64? {
        let width = DemoRecorder.bucketNanoseconds
        let buckets = recorder.buckets
        let first = Int(start / width)
        let last = min(Int(end / width), buckets.count - 1)
        guard first <= last else { return nil }
        guard let index = (first...last).last(where: { buckets[$0].failed > 0 }) else { return nil }
        return UInt64(index + 1) * width
    }

    /// The whole intervals of the load: the last one, cut short when the load stopped, would
    /// read as a collapse.
    private static func timeline(_ buckets: [DemoRecorder.Bucket], loadEnded: UInt64) -> [DemoReport.Interval] {
        let scale = 1e9 / Double(DemoRecorder.bucketNanoseconds)
        let whole = Int(loadEnded / DemoRecorder.bucketNanoseconds)
        return buckets.prefix(whole).enumerated().map { index, bucket in
            DemoReport.Interval(
                at: Double(index) / scale, operationsPerSecond: Double(bucket.succeeded) * scale,
                failedPerSecond: Double(bucket.failed) * scale,
                p99Milliseconds: Percentile.of(bucket.latencies, 0.99).map { Double($0) / 1e6 })
        }
    }
}
