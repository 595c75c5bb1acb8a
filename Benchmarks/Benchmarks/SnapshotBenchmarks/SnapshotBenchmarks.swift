import Benchmark
import CZlibBenchmark
import Foundation
import WAL

// Each comparison runs in this one process, on the same 256 MiB of JSON-like data: plain
// single-stream zlib (`compress2` / `uncompress`, level 1) next to the snapshot writer
// (level 1, 1 MiB blocks, including fsync and rename) and reader (CRC-checked). The
// compressed sizes are reported as custom metrics.

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .peakMemoryResident, .peakMemoryResidentDelta], warmupIterations: 1,
        maxDuration: .seconds(30), maxIterations: 5)

    let compressedBytes = BenchmarkMetric.custom("compressed bytes", polarity: .prefersSmaller, useScalingFactor: false)
    // How much larger the snapshot file is than single-stream zlib output at the same level,
    // in parts per 10,000 (0 if it is smaller): 500 would be the 5 % limit.
    let sizeVersusZlib = BenchmarkMetric.custom(
        "size over zlib (1/10000)", polarity: .prefersSmaller, useScalingFactor: false)
    let sizeConfiguration = Benchmark.Configuration(
        metrics: [.wallClock, .cpuTotal, .peakMemoryResident, .peakMemoryResidentDelta, compressedBytes])

    // MARK: Compression

    Benchmark("zlib compress2 level 1, single stream, 256 MiB", configuration: sizeConfiguration) { benchmark in
        let input = Corpus.input
        var output = [UInt8](repeating: 0, count: Int(compressBound(uLong(input.count))))
        var size = uLongf(output.count)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            size = uLongf(output.count)
            let status = input.withUnsafeBytes { source in
                output.withUnsafeMutableBytes { destination in
                    compress2(
                        destination.baseAddress!.assumingMemoryBound(to: Bytef.self), &size,
                        source.baseAddress!.assumingMemoryBound(to: Bytef.self), uLong(source.count), 1)
                }
            }
            precondition(status == Z_OK)
        }
        benchmark.stopMeasurement()
        benchmark.measurement(compressedBytes, Int(size))
    }

    Benchmark(
        "Snapshot write level 1 incl. fsync, 256 MiB",
        configuration: .init(
            metrics: [.wallClock, .cpuTotal, .peakMemoryResident, .peakMemoryResidentDelta, compressedBytes, sizeVersusZlib])
    ) { benchmark in
        let input = Corpus.input
        let zlibSize = Corpus.zlibCompressedSize
        let directory = Scratch.make("snapshot-write")
        let store = try! SnapshotStore(directory: directory, fileSystem: PosixFileSystem(), logFirstIndex: 1, options: Quiet.options)
        var index: UInt64 = 0
        var size: Int64 = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            index += 1
            let snapshot = try! await store.write(lastIndex: index, term: 1) { writer in
                var offset = 0
                while offset < input.count {
                    let end = min(input.count, offset + (1 << 20))
                    try await writer.write(input[offset..<end])
                    offset = end
                }
            }
            size = snapshot.descriptor.fileSize
        }
        benchmark.stopMeasurement()
        benchmark.measurement(compressedBytes, Int(size))
        benchmark.measurement(sizeVersusZlib, max(0, Int(size) - zlibSize) * 10_000 / zlibSize)
        Scratch.remove(directory)
    }

    // MARK: Decompression

    Benchmark("zlib uncompress, single stream, 256 MiB") { benchmark in
        let input = Corpus.input
        var compressed = [UInt8](repeating: 0, count: Int(compressBound(uLong(input.count))))
        var compressedSize = uLongf(compressed.count)
        _ = input.withUnsafeBytes { source in
            compressed.withUnsafeMutableBytes { destination in
                compress2(
                    destination.baseAddress!.assumingMemoryBound(to: Bytef.self), &compressedSize,
                    source.baseAddress!.assumingMemoryBound(to: Bytef.self), uLong(source.count), 1)
            }
        }
        var output = [UInt8](repeating: 0, count: input.count)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            var size = uLongf(output.count)
            let status = compressed.withUnsafeBytes { source in
                output.withUnsafeMutableBytes { destination in
                    uncompress(
                        destination.baseAddress!.assumingMemoryBound(to: Bytef.self), &size,
                        source.baseAddress!.assumingMemoryBound(to: Bytef.self), compressedSize)
                }
            }
            precondition(status == Z_OK && Int(size) == input.count)
        }
        benchmark.stopMeasurement()
    }

    Benchmark("Snapshot read and verify, 256 MiB") { benchmark in
        let input = Corpus.input
        let directory = Scratch.make("snapshot-read")
        let store = try! SnapshotStore(directory: directory, fileSystem: PosixFileSystem(), logFirstIndex: 1, options: Quiet.options)
        _ = try! await store.write(lastIndex: 1, term: 1) { writer in
            try await writer.write(input)
        }
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            let reader = try! store.makeReader()
            var total = 0
            while let block = try! await reader.next() { total += block.count }
            precondition(total == input.count)
        }
        benchmark.stopMeasurement()
        Scratch.remove(directory)
    }

    // MARK: Interleaved ratios: the machine is shared, so each iteration times zlib and the
    // snapshot code back to back, and the metric is their ratio

    let writeSpeedup = BenchmarkMetric.custom("write speed vs compress2 (x100)", polarity: .prefersLarger, useScalingFactor: false)
    let readSpeedup = BenchmarkMetric.custom("read speed vs uncompress (x100)", polarity: .prefersLarger, useScalingFactor: false)

    Benchmark(
        "Interleaved: snapshot write incl. fsync vs compress2, level 1, 256 MiB",
        configuration: .init(metrics: [writeSpeedup], warmupIterations: 1, maxDuration: .seconds(60), maxIterations: 7)
    ) { benchmark in
        let input = Corpus.input
        let directory = Scratch.make("snapshot-interleaved-write")
        let store = try! SnapshotStore(directory: directory, fileSystem: PosixFileSystem(), logFirstIndex: 1, options: Quiet.options)
        var output = [UInt8](repeating: 0, count: Int(compressBound(uLong(input.count))))
        var index: UInt64 = 0
        for _ in benchmark.scaledIterations {
            let zlib = Timing.measure {
                var size = uLongf(output.count)
                _ = input.withUnsafeBytes { source in
                    output.withUnsafeMutableBytes { destination in
                        compress2(
                            destination.baseAddress!.assumingMemoryBound(to: Bytef.self), &size,
                            source.baseAddress!.assumingMemoryBound(to: Bytef.self), uLong(source.count), 1)
                    }
                }
            }
            index += 1
            let ours = await Timing.measure {
                _ = try! await store.write(lastIndex: index, term: 1) { writer in try await writer.write(input) }
            }
            benchmark.measurement(writeSpeedup, Int(zlib / ours * 100))
        }
        Scratch.remove(directory)
    }

    Benchmark(
        "Interleaved: snapshot read and verify vs uncompress, 256 MiB",
        configuration: .init(metrics: [readSpeedup], warmupIterations: 1, maxDuration: .seconds(60), maxIterations: 7)
    ) { benchmark in
        let input = Corpus.input
        let directory = Scratch.make("snapshot-interleaved-read")
        let store = try! SnapshotStore(directory: directory, fileSystem: PosixFileSystem(), logFirstIndex: 1, options: Quiet.options)
        _ = try! await store.write(lastIndex: 1, term: 1) { writer in try await writer.write(input) }
        var compressed = [UInt8](repeating: 0, count: Int(compressBound(uLong(input.count))))
        var compressedSize = uLongf(compressed.count)
        _ = input.withUnsafeBytes { source in
            compressed.withUnsafeMutableBytes { destination in
                compress2(
                    destination.baseAddress!.assumingMemoryBound(to: Bytef.self), &compressedSize,
                    source.baseAddress!.assumingMemoryBound(to: Bytef.self), uLong(source.count), 1)
            }
        }
        var output = [UInt8](repeating: 0, count: input.count)
        for _ in benchmark.scaledIterations {
            let zlib = Timing.measure {
                var size = uLongf(output.count)
                _ = compressed.withUnsafeBytes { source in
                    output.withUnsafeMutableBytes { destination in
                        uncompress(
                            destination.baseAddress!.assumingMemoryBound(to: Bytef.self), &size,
                            source.baseAddress!.assumingMemoryBound(to: Bytef.self), compressedSize)
                    }
                }
            }
            let ours = await Timing.measure {
                let reader = try! store.makeReader()
                while let block = try! await reader.next() { blackHole(block) }
            }
            benchmark.measurement(readSpeedup, Int(zlib / ours * 100))
        }
        Scratch.remove(directory)
    }

    // MARK: A 1 GiB round trip, generated on the fly: memory must not grow with the size

    Benchmark(
        "Snapshot 1 GiB round trip (write, then read and compare), generated on the fly",
        configuration: .init(
            metrics: [.wallClock, .peakMemoryResident, .peakMemoryResidentDelta], warmupIterations: 0, maxIterations: 1)
    ) { benchmark in
        let directory = Scratch.make("snapshot-1g")
        let store = try! SnapshotStore(directory: directory, fileSystem: PosixFileSystem(), logFirstIndex: 1, options: Quiet.options)
        let total = 1 << 30
        benchmark.startMeasurement()
        var generator = JSONLikeGenerator(seed: 42)
        var written: UInt32 = 0
        _ = try! await store.write(lastIndex: 1, term: 1) { writer in
            var produced = 0
            while produced < total {
                let piece = generator.next(count: min(1 << 20, total - produced))
                written = CRC32C.checksum(piece, extending: written)
                try await writer.write(piece)
                produced += piece.count
            }
        }
        var read: UInt32 = 0
        var count = 0
        let reader = try! store.makeReader()
        while let block = try! await reader.next() {
            read = CRC32C.checksum(block, extending: read)
            count += block.count
        }
        benchmark.stopMeasurement()
        precondition(count == total && read == written, "the 1 GiB round trip returned different bytes")
        Scratch.remove(directory)
    }
}

/// Store options that log only warnings, so progress output stays readable.
enum Quiet {
    static var options: SnapshotOptions {
        var options = SnapshotOptions()
        options.logger.logLevel = .warning
        return options
    }
}

/// Wall-clock seconds of a piece of work.
enum Timing {
    static func measure(_ work: () -> Void) -> Double {
        seconds(ContinuousClock().measure(work))
    }

    static func measure(_ work: () async -> Void) async -> Double {
        seconds(await ContinuousClock().measure(work))
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

/// The shared 256 MiB input, built once per process.
enum Corpus {
    static let input: [UInt8] = {
        var generator = JSONLikeGenerator(seed: 7)
        return generator.next(count: 256 << 20)
    }()

    /// The size of `input` compressed by single-stream zlib at level 1.
    static let zlibCompressedSize: Int = {
        var output = [UInt8](repeating: 0, count: Int(compressBound(uLong(input.count))))
        var size = uLongf(output.count)
        let status = input.withUnsafeBytes { source in
            output.withUnsafeMutableBytes { destination in
                compress2(
                    destination.baseAddress!.assumingMemoryBound(to: Bytef.self), &size,
                    source.baseAddress!.assumingMemoryBound(to: Bytef.self), uLong(source.count), 1)
            }
        }
        precondition(status == Z_OK)
        return Int(size)
    }()
}

/// Deterministic JSON-like records (ids, names, e-mail addresses, numbers, booleans and
/// tags), roughly what a key-value state machine serializes; zlib level 1 shrinks them to
/// about a fifth.
struct JSONLikeGenerator {
    private var state: UInt64
    private var id: UInt64 = 0
    private var carry: [UInt8] = []

    init(seed: UInt64) { state = seed }

    private mutating func random() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    private static let names: [[UInt8]] = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi",
        "ivan", "judy", "mallory", "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter"]
        .map { Array($0.utf8) }
    private static let tags: [[UInt8]] = ["admin", "beta", "premium", "trial", "eu", "us", "apac", "mobile", "web"]
        .map { Array($0.utf8) }

    private static func append(_ value: UInt64, to bytes: inout [UInt8]) {
        var digits: [UInt8] = []
        var rest = value
        repeat {
            digits.append(UInt8(48 + rest % 10))
            rest /= 10
        } while rest > 0
        bytes.append(contentsOf: digits.reversed())
    }

    /// The next `count` bytes of the stream.
    mutating func next(count: Int) -> [UInt8] {
        var bytes = carry
        bytes.reserveCapacity(count + 512)
        while bytes.count < count {
            id += 1
            let r = random()
            let name = Self.names[Int(r % UInt64(Self.names.count))]
            bytes += Array(#"{"id":"#.utf8)
            Self.append(id, to: &bytes)
            bytes += Array(#","user":""#.utf8)
            bytes += name
            Self.append((r >> 8) % 10_000, to: &bytes)
            bytes += Array(#"","email":""#.utf8)
            bytes += name
            bytes += Array(".".utf8)
            Self.append((r >> 20) % 1000, to: &bytes)
            bytes += Array(#"@example.com","balance":"#.utf8)
            Self.append((r >> 30) % 1_000_000, to: &bytes)
            bytes += Array(".".utf8)
            Self.append((r >> 50) % 100, to: &bytes)
            bytes += Array(#","active":"#.utf8)
            bytes += Array(((r >> 57) & 1 == 0 ? "true" : "false").utf8)
            bytes += Array(#","tags":[""#.utf8)
            bytes += Self.tags[Int((r >> 40) % UInt64(Self.tags.count))]
            bytes += Array(#"",""#.utf8)
            bytes += Self.tags[Int((r >> 44) % UInt64(Self.tags.count))]
            bytes += Array(#""]}"#.utf8)
            bytes += [10]
        }
        carry = Array(bytes[count...])
        bytes.removeSubrange(count...)
        return bytes
    }
}

/// Scratch directories on the same file system as the working directory (not tmpfs).
enum Scratch {
    static func make(_ name: String) -> String {
        let path = FileManager.default.currentDirectoryPath + "/.build/bench-scratch/" + name + "-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func remove(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }
}
