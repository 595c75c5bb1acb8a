import RaftSimulation
import Testing
import WAL

/// Flips one bit at every byte offset of a small multi-segment log, one at a time. Every flip
/// in committed data must give a typed corruption error naming the file and offset (recovery
/// must not mistake it for a torn write), and no read may ever return wrong data.
@Suite struct CorruptionTests {
    let directory = "/wal"

    func buildLog() async throws -> (SimulatedFileSystem, WALOptions, [LogEntry]) {
        let fileSystem = SimulatedFileSystem(seed: 99)
        let options = smallOptions(segmentSize: 700)
        let log = try WriteAheadLog(directory: directory, fileSystem: fileSystem, options: options)
        let written = entries(1...24, size: 40)
        for chunk in stride(from: 0, to: 24, by: 3) {
            try await log.append(Array(written[chunk..<(chunk + 3)]), hardState: HardState(term: 1, vote: 1, commit: UInt64(chunk)))
        }
        await log.close()
        return (fileSystem, options, written)
    }

    @Test func everyFlippedBitInCommittedDataIsReportedAsCorruption() async throws {
        let (fileSystem, options, written) = try await buildLog()
        let segments = try fileSystem.contentsOfDirectory(directory).filter { $0.hasSuffix(".wal") }
        #expect(segments.count >= 3)
        var flips = 0
        for name in segments {
            let path = directory + "/" + name
            let size = fileSystem.contents(of: path)!.count
            for offset in 0..<size {
                let bit = offset % 8
                fileSystem.flipBit(path: path, offset: offset, bit: bit)
                defer { fileSystem.flipBit(path: path, offset: offset, bit: bit) }
                flips += 1
                do {
                    let report = try WriteAheadLog.verify(directory: directory, fileSystem: fileSystem, options: options)
                    Issue.record("flip at \(name):\(offset) went unnoticed: \(report)")
                } catch let error {
                    guard case .corruption(let file, let at, _) = error else {
                        Issue.record("flip at \(name):\(offset) gave \(error), not corruption")
                        continue
                    }
                    #expect(file == path)
                    // The damage is reported at or before the flipped byte, within its frame.
                    #expect(at <= Int64(offset) && Int64(offset) - at < 200, "flip at \(offset) reported at \(at)")
                }
            }
        }
        #expect(flips > 2000)
        // Undamaged again: the log reads back intact.
        let log = try WriteAheadLog(directory: directory, fileSystem: fileSystem, options: options)
        #expect(try allEntries(log) == written)
        await log.close()
    }

    @Test func readsNeverReturnWrongDataAfterDamageAtRest() async throws {
        let (fileSystem, options, written) = try await buildLog()
        let log = try WriteAheadLog(directory: directory, fileSystem: fileSystem, options: options)
        let segments = try fileSystem.contentsOfDirectory(directory).filter { $0.hasSuffix(".wal") }.sorted()
        // Damage after open: the in-memory index is intact, so only CRC checks on read stand
        // between the damage and the caller.
        for name in segments {
            let path = directory + "/" + name
            let size = fileSystem.contents(of: path)!.count
            for offset in stride(from: 64, to: size, by: 5) {
                fileSystem.flipBit(path: path, offset: offset, bit: 3)
                defer { fileSystem.flipBit(path: path, offset: offset, bit: 3) }
                for index in 1...24 as ClosedRange<UInt64> {
                    do {
                        let read = try log.entry(at: index)
                        #expect(read == written[Int(index) - 1], "flip at \(name):\(offset) returned wrong entry \(index)")
                    } catch let error {
                        guard case .corruption = error else {
                            Issue.record("flip at \(name):\(offset), entry \(index): \(error)")
                            continue
                        }
                    }
                }
            }
        }
        await log.close()
    }

    @Test func aTornFinalBatchIsTruncatedAndReportedAsTorn() async throws {
        let fileSystem = SimulatedFileSystem(seed: 5)
        let options = smallOptions(segmentSize: 1 << 20)
        let written = entries(1...10, size: 40)
        do {
            let log = try WriteAheadLog(directory: directory, fileSystem: fileSystem, options: options)
            try await log.append(written)
            await log.close()
        }
        let segment = directory + "/" + (try fileSystem.contentsOfDirectory(directory).first { $0.hasSuffix(".wal") }!)
        let size = fileSystem.contents(of: segment)!.count
        do {
            let log = try WriteAheadLog(directory: directory, fileSystem: fileSystem, options: options)
            try await log.append(entries(11...12, size: 300))
            await log.close()
        }
        // The second batch lost its last 40 bytes, as if its final sector never reached the disk.
        let grown = fileSystem.contents(of: segment)!.count
        #expect(grown > size + 600)
        let file = try fileSystem.openFile(segment, mode: .readWrite)
        try fileSystem.truncate(file, to: Int64(grown - 40))
        fileSystem.closeFile(file)

        let report = try WriteAheadLog.verify(directory: directory, fileSystem: fileSystem, options: options)
        #expect(report.tornTail?.file == segment)
        #expect(report.tornTail?.offset == Int64(size))
        #expect(report.lastIndex == 10)
        let log = try WriteAheadLog(directory: directory, fileSystem: fileSystem, options: options)
        #expect(log.recoveryReport.tornTail?.offset == Int64(size))
        #expect(try allEntries(log) == written)
        #expect(fileSystem.contents(of: segment)!.count == size)
        await log.close()
    }

    @Test func aHoleBeforeTheFinalBatchsIntactMarkerIsATornWrite() async throws {
        // The disk may persist a write's sectors in any order: the marker can land while a
        // sector before it is still a hole of zeros. That batch was never acknowledged.
        let fileSystem = SimulatedFileSystem(seed: 7)
        let options = smallOptions(segmentSize: 1 << 20)
        let written = entries(1...10, size: 40)
        do {
            let log = try WriteAheadLog(directory: directory, fileSystem: fileSystem, options: options)
            try await log.append(written)
            try await log.append(entries(11...14, size: 400))
            await log.close()
        }
        let segment = directory + "/" + (try fileSystem.contentsOfDirectory(directory).first { $0.hasSuffix(".wal") }!)
        let contents = fileSystem.contents(of: segment)!
        var markers: [RecordSummary] = []
        try WriteAheadLog.forEachRecord(directory: directory, fileSystem: fileSystem, options: options) { record in
            if record.kind == .commit { markers.append(record) }
        }
        #expect(markers.count == 2)
        let batchStart = Int(markers[0].offset) + 32 + markers[0].size
        let hole = (batchStart / 512 + 1) * 512
        let file = try fileSystem.openFile(segment, mode: .readWrite)
        try [UInt8](repeating: 0, count: 512).withUnsafeBytes { try fileSystem.write(to: file, at: Int64(hole), from: $0) }
        fileSystem.closeFile(file)
        #expect(hole + 512 < contents.count - 48, "the hole lies before the second batch's marker")

        let report = try WriteAheadLog.verify(directory: directory, fileSystem: fileSystem, options: options)
        #expect(report.tornTail?.offset == Int64(batchStart))
        #expect(report.lastIndex == 10)
        let log = try WriteAheadLog(directory: directory, fileSystem: fileSystem, options: options)
        #expect(try allEntries(log) == written)
        await log.close()
    }

    @Test func aFlipInTheFinalCommitMarkerIsCorruptionNotATornTail() async throws {
        let fileSystem = SimulatedFileSystem(seed: 6)
        let options = smallOptions(segmentSize: 1 << 20)
        do {
            let log = try WriteAheadLog(directory: directory, fileSystem: fileSystem, options: options)
            try await log.append(entries(1...10, size: 40))
            await log.close()
        }
        let segment = directory + "/" + (try fileSystem.contentsOfDirectory(directory).first { $0.hasSuffix(".wal") }!)
        let size = fileSystem.contents(of: segment)!.count
        // The commit marker is the last 56 bytes; damage its CRC field.
        fileSystem.flipBit(path: segment, offset: size - 56, bit: 1)
        #expect(throws: WALError.self) {
            try WriteAheadLog.verify(directory: directory, fileSystem: fileSystem, options: options)
        }
    }

    @Test func aMissingMiddleSegmentBreaksTheChain() async throws {
        let (fileSystem, options, _) = try await buildLog()
        let segments = try fileSystem.contentsOfDirectory(directory).filter { $0.hasSuffix(".wal") }.sorted()
        try fileSystem.removeFile(directory + "/" + segments[1])
        #expect {
            try WriteAheadLog.verify(directory: directory, fileSystem: fileSystem, options: options)
        } throws: { error in
            guard case .corruption(let file, _, let reason) = error as? WALError else { return false }
            return file.hasSuffix(segments[2]) && reason.contains("does not follow")
        }
    }

    @Test func aFutureFormatVersionIsRefused() async throws {
        let (fileSystem, options, _) = try await buildLog()
        let segments = try fileSystem.contentsOfDirectory(directory).filter { $0.hasSuffix(".wal") }.sorted()
        let path = directory + "/" + segments[0]
        // Rewrite the header with version 2 and a matching CRC, as a newer build would.
        var header = Array(fileSystem.contents(of: path)![0..<64])
        header[8] = 2
        let crc = CRC32C.checksum(Array(header[0..<60]))
        withUnsafeBytes(of: crc.littleEndian) { header.replaceSubrange(60..<64, with: $0) }
        let file = try fileSystem.openFile(path, mode: .readWrite)
        try header.withUnsafeBytes { try fileSystem.write(to: file, at: 0, from: $0) }
        fileSystem.closeFile(file)
        #expect(throws: WALError.unsupportedVersion(file: path, version: 2)) {
            try WriteAheadLog.verify(directory: directory, fileSystem: fileSystem, options: options)
        }
    }
}
