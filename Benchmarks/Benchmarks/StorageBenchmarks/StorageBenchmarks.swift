import Benchmark
import Foundation
import WAL

#if canImport(Glibc)
import Glibc
#endif

// Each pair that a target compares runs in this one process, back to back, in the same
// directory: the raw pwrite+fdatasync loop next to the WAL's single writer, so that their
// ratio is measured on the same disk at the same time.

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput], warmupIterations: 1, maxDuration: .seconds(3), maxIterations: 1_000_000)

    // MARK: CRC32C

    let buffer = (0..<(64 << 10)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
    Benchmark("CRC32C hardware, 64 KiB buffers", configuration: .init(scalingFactor: .kilo)) { benchmark in
        buffer.withUnsafeBytes { raw in
            for _ in benchmark.scaledIterations { blackHole(CRC32C.checksum(raw)) }
        }
    }
    Benchmark("CRC32C software, 64 KiB buffers", configuration: .init(scalingFactor: .kilo)) { benchmark in
        buffer.withUnsafeBytes { raw in
            for _ in benchmark.scaledIterations { blackHole(CRC32C.softwareChecksum(raw)) }
        }
    }

    // MARK: One writer, one 256-byte record per fdatasync

    Benchmark("Raw pwrite+fdatasync, 256 B") { benchmark in
        let directory = Scratch.make("raw")
        let descriptor = open(directory + "/raw", O_RDWR | O_CREAT | O_TRUNC, 0o644)
        let record = [UInt8](repeating: 0xA5, count: 256)
        var offset: off_t = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            _ = record.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, 256, offset) }
            fdatasync(descriptor)
            offset += 256
        }
        benchmark.stopMeasurement()
        close(descriptor)
        Scratch.remove(directory)
    }

    Benchmark("WAL append, 1 writer, 256 B") { benchmark in
        let directory = Scratch.make("wal-one")
        let log = try! WriteAheadLog(directory: directory, fileSystem: PosixFileSystem())
        let payload = [UInt8](repeating: 0xA5, count: 256)
        var index: UInt64 = 1
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            try! await log.append([LogEntry(index: index, term: 1, payload: payload)])
            index += 1
        }
        benchmark.stopMeasurement()
        await log.close()
        Scratch.remove(directory)
    }

    // MARK: Many producers: 64 × batches of 64 records of 256 bytes (4,096 in flight)

    Benchmark(
        "WAL append, 64 producers x 64-record batches, 256 B (65,536 records per iteration)",
        configuration: .init(maxDuration: .seconds(5))
    ) { benchmark in
        let directory = Scratch.make("wal-many")
        let log = try! WriteAheadLog(directory: directory, fileSystem: PosixFileSystem())
        let payloads = [[UInt8]](repeating: [UInt8](repeating: 0x5A, count: 256), count: 64)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<64 {
                    group.addTask {
                        for _ in 0..<16 { _ = try! await log.append(payloads: payloads, term: 1) }
                    }
                }
            }
        }
        benchmark.stopMeasurement()
        await log.close()
        Scratch.remove(directory)
    }

    // MARK: 64 KiB records against raw buffered sequential bandwidth

    Benchmark("Raw buffered sequential write + final fdatasync, 64 MiB") { benchmark in
        let directory = Scratch.make("raw-seq")
        let chunk = [UInt8](repeating: 0x5A, count: 64 << 10)
        for _ in benchmark.scaledIterations {
            let descriptor = open(directory + "/raw", O_RDWR | O_CREAT | O_TRUNC, 0o644)
            for block in 0..<1024 {
                _ = chunk.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, chunk.count, off_t(block * chunk.count)) }
            }
            fdatasync(descriptor)
            close(descriptor)
        }
        Scratch.remove(directory)
    }

    Benchmark("WAL append, 128 producers, 64 KiB records, 64 MiB per iteration") { benchmark in
        let directory = Scratch.make("wal-large")
        let log = try! WriteAheadLog(directory: directory, fileSystem: PosixFileSystem())
        let payload = [[UInt8](repeating: 0x5A, count: 64 << 10)]
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<128 {
                    group.addTask {
                        for _ in 0..<8 { _ = try! await log.append(payloads: payload, term: 1) }
                    }
                }
            }
        }
        benchmark.stopMeasurement()
        await log.close()
        Scratch.remove(directory)
    }

    // MARK: The ratios the targets name, measured interleaved

    // The disk and the other core are shared, so the load drifts. Each round runs the
    // baseline and the log back to back (alternating which goes first) and yields one ratio;
    // the median of the rounds is reported, so a burst of outside load skews one round, not
    // the result.
    let ratio = BenchmarkMetric.custom("ratio x1000", polarity: .prefersLarger, useScalingFactor: false)

    Benchmark(
        "Ratio x1000: WAL 1 writer / raw pwrite+fdatasync, 256 B, median of 21 interleaved rounds",
        configuration: .init(metrics: [ratio], warmupIterations: 0, maxIterations: 1)
    ) { benchmark in
        let directory = Scratch.make("ratio-one")
        let log = try! WriteAheadLog(directory: directory, fileSystem: PosixFileSystem())
        let descriptor = open(directory + "/raw", O_RDWR | O_CREAT | O_TRUNC, 0o644)
        let payload = [UInt8](repeating: 0xA5, count: 256)
        let clock = ContinuousClock()
        var index: UInt64 = 1
        var offset: off_t = 0
        func raw() -> Int {
            var count = 0
            let end = clock.now + .milliseconds(150)
            while clock.now < end {
                _ = payload.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, 256, offset) }
                fdatasync(descriptor)
                offset += 256
                count += 1
            }
            return count
        }
        func wal() async -> Int {
            var count = 0
            let end = clock.now + .milliseconds(150)
            while clock.now < end {
                try! await log.append([LogEntry(index: index, term: 1, payload: payload)])
                index += 1
                count += 1
            }
            return count
        }
        var ratios: [Double] = []
        for round in 0..<21 {
            let (rawCount, walCount) = round % 2 == 0 ? (raw(), await wal()) : (await wal(), raw())
            ratios.append(Double(walCount) / Double(max(rawCount, 1)))
        }
        benchmark.measurement(ratio, Int(ratios.sorted()[ratios.count / 2] * 1000))
        close(descriptor)
        await log.close()
        Scratch.remove(directory)
    }

    Benchmark(
        "Ratio x1000: WAL 64 KiB records (128 producers) / raw buffered sequential write + fdatasync, median of 11 interleaved rounds of 64 MiB",
        configuration: .init(metrics: [ratio], warmupIterations: 0, maxIterations: 1)
    ) { benchmark in
        let directory = Scratch.make("ratio-large")
        let log = try! WriteAheadLog(directory: directory, fileSystem: PosixFileSystem())
        let chunk = [UInt8](repeating: 0x5A, count: 64 << 10)
        let clock = ContinuousClock()
        // Raw files are deleted only at the end: freeing 64 MiB of extents makes the next
        // journal commit slow, and that cost must not land on whichever side runs next.
        func raw(_ round: Int) -> Duration {
            let start = clock.now
            let descriptor = open(directory + "/raw-\(round)", O_RDWR | O_CREAT | O_TRUNC, 0o644)
            for block in 0..<1024 {
                _ = chunk.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, chunk.count, off_t(block * chunk.count)) }
            }
            fdatasync(descriptor)
            close(descriptor)
            return clock.now - start
        }
        func wal() async -> Duration {
            let start = clock.now
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<128 {
                    group.addTask {
                        for _ in 0..<8 { _ = try! await log.append(payloads: [chunk], term: 1) }
                    }
                }
            }
            return clock.now - start
        }
        var ratios: [Double] = []
        for round in 0..<11 {
            let (rawTime, walTime) = round % 2 == 0 ? (raw(round), await wal()) : (await wal(), raw(round))
            // Equal bytes each side, so the bandwidth ratio is the inverse ratio of the times.
            ratios.append(rawTime / walTime)
        }
        benchmark.measurement(ratio, Int(ratios.sorted()[ratios.count / 2] * 1000))
        await log.close()
        Scratch.remove(directory)
    }

    // MARK: Recovery of a 1 GiB log, warm cache

    for recordSize in [4096, 256] {
        Benchmark(
            "WAL open (recovery) of a 1 GiB log of \(recordSize)-byte records",
            configuration: .init(metrics: [.wallClock, .peakMemoryResident], warmupIterations: 1, maxIterations: 5)
        ) { benchmark in
            let directory = Scratch.make("wal-recovery")
            do {
                let log = try! WriteAheadLog(directory: directory, fileSystem: PosixFileSystem())
                let perBatch = (1 << 20) / recordSize
                let payloads = [[UInt8]](repeating: [UInt8](repeating: 0x33, count: recordSize), count: perBatch)
                // 1 GiB of files, framing included.
                let frame = (32 + recordSize + 7) & ~7
                for _ in 0..<((1 << 30) / (frame * perBatch)) { _ = try! await log.append(payloads: payloads, term: 1) }
                await log.close()
            }
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                let log = try! WriteAheadLog(directory: directory, fileSystem: PosixFileSystem())
                blackHole(log.recoveryReport.bytesScanned)
                await log.close()
            }
            benchmark.stopMeasurement()
            Scratch.remove(directory)
        }
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
