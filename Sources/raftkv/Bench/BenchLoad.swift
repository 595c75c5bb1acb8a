import RaftKV
import Synchronization

/// The benchmark's load generator: `clients` connections to one server, each sending
/// `pipeline` commands at a time and waiting for their replies, for a fixed time. The same
/// generator drives every server compared, so the figures differ only by the server.
struct BenchLoad: Sendable {
    enum Operation: String, Sendable, Codable {
        case set = "SET"
        case get = "GET"
    }

    /// What one point measured.
    struct Result: Sendable {
        var requests: Int
        var errors: Int
        var seconds: Double
        /// One sample per reply: the time its batch took, in nanoseconds.
        var latencies: [UInt64]

        var perSecond: Double { Double(requests) / max(seconds, 0.001) }
    }

    let port: Int
    let operation: Operation
    let clients: Int
    let pipeline: Int
    let valueSize: Int
    let keySpace: Int

    /// Runs the load for `duration`.
    /// - Throws: ``SetupError`` when no client could connect at all.
    func run(for duration: Duration) async throws -> Result {
        let value = [UInt8](repeating: UInt8(ascii: "x"), count: valueSize)
        let started = ContinuousClock.now
        let stop = started + duration
        let results = await withTaskGroup(of: Result?.self) { group in
            for number in 0..<clients {
                group.addTask { await runClient(number, value: value, until: stop) }
            }
            var all: [Result] = []
            for await result in group { if let result { all.append(result) } }
            return all
        }
        guard !results.isEmpty else { throw SetupError("no client could connect to 127.0.0.1:\(port)") }
        let elapsed = ContinuousClock.now - started
        return Result(
            requests: results.reduce(0) { $0 + $1.requests }, errors: results.reduce(0) { $0 + $1.errors },
            seconds: elapsed.inSeconds,
            latencies: results.flatMap(\.latencies))
    }

    private func runClient(_ number: Int, value: [UInt8], until stop: ContinuousClock.Instant) async -> Result? {
        guard let client = try? await RESPClient.connect(host: "127.0.0.1", port: port, replyTimeout: .seconds(10)) else {
            return nil
        }
        var random = SystemRandomNumberGenerator()
        var result = Result(requests: 0, errors: 0, seconds: 0, latencies: [])
        while ContinuousClock.now < stop {
            let batch = (0..<pipeline).map { _ -> [[UInt8]] in
                let key = Array("key:\(String(Int.random(in: 0..<keySpace, using: &random)).leftPadded(to: 12))".utf8)
                switch operation {
                case .set: return [Array("SET".utf8), key, value]
                case .get: return [Array("GET".utf8), key]
                }
            }
            let sent = ContinuousClock.now
            guard let replies = try? await client.pipeline(batch) else {
                result.errors += batch.count
                break
            }
            let nanoseconds = (ContinuousClock.now - sent).inNanoseconds
            for reply in replies {
                if reply.isError { result.errors += 1 } else { result.requests += 1 }
                result.latencies.append(nanoseconds)
            }
        }
        await client.close()
        return result
    }
}
