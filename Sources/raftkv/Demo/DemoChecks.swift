import RaftKV

/// The verdict of one of the demo's end checks.
struct CheckResult: Sendable, Codable {
    var name: String
    var passed: Bool
    var detail: String
}

/// The checks the demo runs once the load has stopped and every member is back: nothing
/// acknowledged is lost, the replicas agree, and the clients' history is linearizable.
struct DemoChecks: Sendable {
    let cluster: LocalCluster
    let recorder: DemoRecorder
    let workload: DemoWorkload

    /// Every acknowledged ledger write, read back from every member with a linearizable `MGET`.
    func acknowledgedWritesArePresent() async -> CheckResult {
        let name = "every acknowledged write is present on every node"
        let acknowledged = recorder.acknowledgedLedger.sorted { $0.key < $1.key }
        let chunks = stride(from: 0, to: acknowledged.count, by: 256).map { acknowledged[$0..<min($0 + 256, acknowledged.count)] }
        var missing: [String] = []
        for id in cluster.ids {
            // One connection per node, every MGET of it in one pipeline.
            var replies: [RESPValue]?
            if let client = try? await cluster.client(id, replyTimeout: .seconds(10)) {
                replies = try? await client.pipeline(chunks.map { ["MGET"] + $0.map(\.key) })
                await client.close()
            }
            guard let replies else {
                return CheckResult(name: name, passed: false, detail: "n\(id) did not answer MGET")
            }
            for (chunk, reply) in zip(chunks, replies) {
                guard case .array(let values) = reply, values.count == chunk.count else {
                    return CheckResult(name: name, passed: false, detail: "n\(id) answered MGET with \(reply)")
                }
                for (pair, value) in zip(chunk, values) where value.text != pair.value {
                    missing.append("\(pair.key) on n\(id) (\(value.text ?? "missing"), expected \(pair.value))")
                }
            }
        }
        guard missing.isEmpty else {
            return CheckResult(
                name: name, passed: false,
                detail: "\(missing.count) acknowledged writes missing or wrong: " + missing.prefix(5).joined(separator: "; "))
        }
        return CheckResult(
            name: name, passed: true,
            detail: "\(acknowledged.count) acknowledged writes read back from each of \(cluster.ids.count) nodes")
    }

    /// The members' state digests at one applied index: the load has stopped, so once every
    /// member has applied the same index their stores must be byte-for-byte the same.
    func digestsAreEqual() async -> CheckResult {
        let name = "every node's state digest is equal at the same applied index"
        let deadline = ContinuousClock.now + .seconds(20)
        var last = ""
        while ContinuousClock.now < deadline {
            let before = await appliedIndexes()
            var digests: [Int: RESPValue] = [:]
            for id in cluster.ids { digests[id] = try? await cluster.command(id, ["RAFTKV.DIGEST"]) }
            let after = await appliedIndexes()
            let indexes = Set(before.values)
            guard before.count == cluster.ids.count, indexes.count == 1, before == after else {
                last = "applied indexes " + cluster.ids.map { "n\($0)=\(before[$0].map(String.init) ?? "?")" }.joined(separator: " ")
                try? await Task.sleep(for: .milliseconds(200))
                continue
            }
            let described = cluster.ids.map { id -> String in
                guard case .array(let parts) = digests[id], let digest = parts.first?.text else { return "n\(id)=?" }
                return "n\(id)=\(digest)"
            }
            let distinct = Set(cluster.ids.map { digests[$0] })
            let detail = "at applied index \(indexes.first!): " + described.joined(separator: " ")
            return CheckResult(name: name, passed: distinct.count == 1 && !described.contains { $0.hasSuffix("=?") }, detail: detail)
        }
        return CheckResult(name: name, passed: false, detail: "the nodes never reached one applied index (\(last))")
    }

    private func appliedIndexes() async -> [Int: UInt64] {
        var indexes: [Int: UInt64] = [:]
        for id in cluster.ids {
            if let info = await cluster.info(id) { indexes[id] = info.appliedIndex }
        }
        return indexes
    }

    /// The Wing–Gong–Lowe check of the register history, with a final read of every register
    /// from every member; and the counters' increments against their final values.
    func historyIsLinearizable() async -> CheckResult {
        let name = "the client history is linearizable"
        for id in cluster.ids {
            let invokedAt = recorder.now
            let reply = try? await cluster.command(id, ["MGET"] + workload.registerKeys)
            let completedAt = recorder.now
            guard case .array(let values) = reply, values.count == workload.registerKeys.count else {
                return CheckResult(name: name, passed: false, detail: "n\(id) did not answer the final reads")
            }
            for (key, value) in zip(workload.registerKeys, values) {
                let bytes: [UInt8]? = if case .bulkString(let bytes) = value { bytes } else { nil }
                recorder.record(
                    HistoryOperation(client: -id, command: .get(key: key), invokedAt: invokedAt, outcome: .completed(.value(bytes), at: completedAt)))
            }
        }
        let history = recorder.history
        let verdict = LinearizabilityChecker().check(history)
        let registers: String
        switch verdict {
        case .linearizable:
            registers = "\(history.count) register operations on \(workload.registerKeys.count) keys linearizable"
        case .violation(let key, let operations, let explanation):
            let shown = operations.prefix(4).map { "\(history[$0])" }.joined(separator: "; ")
            return CheckResult(name: name, passed: false, detail: "violation on \(key): \(explanation); \(shown)")
        case .unknown(let reason):
            return CheckResult(name: name, passed: false, detail: "undecided: \(reason)")
        }
        let counters = await countersAreConsistent()
        guard counters.passed else { return CheckResult(name: name, passed: false, detail: counters.detail) }
        return CheckResult(name: name, passed: true, detail: registers + "; " + counters.detail)
    }

    /// Increments of a counter are linearizable only if the acknowledged ones got distinct
    /// results, ordered as they were in real time, and the final value counts each of them,
    /// and no more increments than were sent. (Necessary conditions: the register model of
    /// the checker does not cover `INCR`.)
    private func countersAreConsistent() async -> (passed: Bool, detail: String) {
        let increments = recorder.increments
        var checked = 0
        for key in workload.counterKeys {
            let all = increments[key] ?? []
            let acknowledged = all.filter { $0.result != nil }.sorted { $0.result! < $1.result! }
            let reply = try? await cluster.command(cluster.ids.first { cluster.isRunning($0) }!, ["GET", key])
            let final = reply?.text.flatMap { Int64($0) } ?? 0
            let results = acknowledged.map { $0.result! }
            if Set(results).count != results.count { return (false, "\(key): two increments got the same result") }
            if let largest = results.last, largest > final { return (false, "\(key): final value \(final) is below acknowledged \(largest)") }
            if final > Int64(all.count) { return (false, "\(key): final value \(final) exceeds the \(all.count) increments sent") }
            // Sorted by result: no increment may have begun after one with a larger result
            // had already finished.
            var earliestCompletionOfLarger = UInt64.max
            for increment in acknowledged.reversed() {
                if earliestCompletionOfLarger < increment.invokedAt {
                    return (false, "\(key): an increment that began after another had finished got a smaller result")
                }
                earliestCompletionOfLarger = min(earliestCompletionOfLarger, increment.completedAt!)
            }
            checked += all.count
        }
        return (true, "\(checked) increments on \(workload.counterKeys.count) counters consistent with their final values")
    }
}
