import RaftKV

/// The demo's mixed load: clients that each keep one connection to a member and send `SET`,
/// `GET` and `CAS` on a few hundred register keys, `INCR` on a few counters, and `SET` on keys
/// written once only (the ledger), recording every outcome.
struct DemoWorkload: Sendable {
    let cluster: LocalCluster
    let recorder: DemoRecorder
    let registerKeys: [String]
    let counterKeys: [String]

    init(cluster: LocalCluster, recorder: DemoRecorder, registerKeyCount: Int) {
        self.cluster = cluster
        self.recorder = recorder
        registerKeys = (0..<registerKeyCount).map { "reg:\(String($0).leftPadded(to: 3))" }
        counterKeys = (0..<8).map { "ctr:\($0)" }
    }

    /// The ledger key a client writes as its `sequence`-th ledger write.
    static func ledgerKey(client: Int, sequence: Int) -> String { "led:\(client):\(sequence)" }

    /// Runs `clients` clients until the recorder says the load has stopped.
    func run(clients: Int) async {
        await withTaskGroup(of: Void.self) { group in
            for number in 0..<clients {
                group.addTask { await runClient(number) }
            }
        }
    }

    private enum Choice {
        case set, get, compareAndSet, increment, ledger
    }

    private func choose(using random: inout some RandomNumberGenerator) -> Choice {
        switch Int.random(in: 0..<100, using: &random) {
        case 0..<30: .set
        case 30..<60: .get
        case 60..<72: .compareAndSet
        case 72..<85: .increment
        default: .ledger
        }
    }

    private func runClient(_ number: Int) async {
        var random = SystemRandomNumberGenerator()
        let ids = cluster.ids
        var target = ids[number % ids.count]
        var client: RESPClient?
        var sequence = 0
        var ledgerSequence = 0
        var lastSeen: [String: [UInt8]] = [:]
        while !recorder.loadStopped.load(ordering: .relaxed) {
            guard let connected = client else {
                client = try? await cluster.client(target)
                if client == nil {
                    target = ids.randomElement(using: &random)!
                    try? await Task.sleep(for: .milliseconds(50))
                }
                continue
            }
            sequence += 1
            let choice = choose(using: &random)
            let key = registerKeys.randomElement(using: &random)!
            let value = Array("c\(number)-\(sequence)".utf8)
            let invokedAt = recorder.now
            switch choice {
            case .increment:
                let counter = counterKeys.randomElement(using: &random)!
                let handle = recorder.invokeIncrement(of: counter, at: invokedAt)
                let reply = try? await connected.send(["INCR", counter])
                let completedAt = recorder.now
                if case .integer(let result) = reply {
                    recorder.completeIncrement(of: counter, handle: handle, result: result, at: completedAt)
                    recorder.count(succeeded: true, latency: completedAt - invokedAt, at: completedAt)
                    continue
                }
                recorder.count(succeeded: false, latency: completedAt - invokedAt, at: completedAt)
                if reply == nil { client = nil }
            case .ledger:
                ledgerSequence += 1
                let ledgerKey = Self.ledgerKey(client: number, sequence: ledgerSequence)
                let ledgerValue = "v\(number)-\(ledgerSequence)"
                let reply = try? await connected.send(["SET", ledgerKey, ledgerValue])
                let completedAt = recorder.now
                let succeeded = reply == .ok
                if succeeded { recorder.acknowledgeLedgerWrite(key: ledgerKey, value: ledgerValue) }
                recorder.count(succeeded: succeeded, latency: completedAt - invokedAt, at: completedAt)
                if succeeded { continue }
                if reply == nil { client = nil }
            case .set, .get, .compareAndSet:
                let command: KVCommand
                let arguments: [[UInt8]]
                switch choice {
                case .set:
                    command = .put(key: key, value: value)
                    arguments = [Array("SET".utf8), Array(key.utf8), value]
                case .get:
                    command = .get(key: key)
                    arguments = [Array("GET".utf8), Array(key.utf8)]
                default:
                    let expected = lastSeen[key] ?? Array("none".utf8)
                    command = .compareAndSet(key: key, expected: expected, new: value)
                    arguments = [Array("CAS".utf8), Array(key.utf8), expected, value]
                }
                let outcome: RESPValue
                do {
                    outcome = try await connected.send(arguments)
                } catch {
                    if !command.isReadOnly {
                        recorder.record(HistoryOperation(client: number, command: command, invokedAt: invokedAt, outcome: .unknown))
                    }
                    recorder.count(succeeded: false, latency: recorder.now - invokedAt, at: recorder.now)
                    client = nil
                    break
                }
                let completedAt = recorder.now
                if let result = Self.result(of: command, reply: outcome) {
                    if case .value(let bytes) = result, let bytes { lastSeen[key] = bytes }
                    // A failed CAS changes nothing and its reply does not say what it found:
                    // leaving it out of the history loses no write.
                    if result != .casFailed(current: nil) {
                        recorder.record(
                            HistoryOperation(client: number, command: command, invokedAt: invokedAt, outcome: .completed(result, at: completedAt)))
                    }
                    recorder.count(succeeded: true, latency: completedAt - invokedAt, at: completedAt)
                    continue
                }
                // An error reply: TRYAGAIN and NOLEADER say the write was certainly not executed;
                // anything else may have happened.
                if !command.isReadOnly, !Self.certainlyNotExecuted(outcome) {
                    recorder.record(HistoryOperation(client: number, command: command, invokedAt: invokedAt, outcome: .unknown))
                }
                recorder.count(succeeded: false, latency: completedAt - invokedAt, at: completedAt)
            }
            if client == nil {
                target = ids.randomElement(using: &random)!
            }
            // After a failure, give the cluster a moment rather than spin on it.
            try? await Task.sleep(for: .milliseconds(20))
        }
        await client?.close()
    }

    /// The result a successful reply stands for, or nil for an error reply.
    private static func result(of command: KVCommand, reply: RESPValue) -> KVResult? {
        switch (command, reply) {
        case (.put, .simpleString("OK")), (.compareAndSet, .integer(1)): .ok
        case (.compareAndSet, .integer(0)): .casFailed(current: nil)
        case (.get, .bulkString(let bytes)): .value(bytes)
        case (.get, .null): .value(nil)
        default: nil
        }
    }

    static func certainlyNotExecuted(_ reply: RESPValue) -> Bool {
        guard case .error(let message) = reply else { return false }
        return message.hasPrefix("TRYAGAIN") || message.hasPrefix("NOLEADER")
    }
}
