import Foundation
import Logging
import struct RaftCore.SplitMix64
import RaftSimulation
import Testing
import WAL

/// Options with small blocks, so tests cross many block boundaries with little data (CRC and
/// zlib work is slow in debug builds).
func testOptions(blockSize: Int = 256, retainedCount: Int = 2) -> SnapshotOptions {
    var options = SnapshotOptions()
    options.blockSize = blockSize
    options.maxBlocksInFlight = 3
    options.retainedCount = retainedCount
    options.maxChunkSize = 4096
    options.logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
    return options
}

func walOptions() -> WALOptions {
    var options = WALOptions()
    options.segmentSize = 2048
    options.logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
    return options
}

/// Deterministic JSON-like bytes: compressible, but not trivially.
func jsonLike(count: Int, seed: UInt64) -> [UInt8] {
    var generator = SplitMix64(seed: seed)
    var bytes: [UInt8] = []
    bytes.reserveCapacity(count + 128)
    while bytes.count < count {
        let key = generator.next() % 1000
        let value = generator.next() % 100_000
        bytes += Array(#"{"key":"user-\#(key)","value":\#(value),"active":\#(value % 2 == 0)},"#.utf8)
    }
    return Array(bytes.prefix(count))
}

/// Deterministic bytes that do not compress.
func randomBytes(count: Int, seed: UInt64) -> [UInt8] {
    var generator = SplitMix64(seed: seed)
    return (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
}

/// Writes `data` as a snapshot, in pieces of `piece` bytes.
func writeSnapshot<FS: FileSystem>(
    _ store: SnapshotStore<FS>, lastIndex: UInt64, term: UInt64 = 1, data: [UInt8], metadata: [UInt8] = [],
    piece: Int = 100
) async throws -> DurableSnapshot {
    try await store.write(lastIndex: lastIndex, term: term, metadata: metadata) { writer in
        var offset = 0
        while offset < data.count {
            let end = min(data.count, offset + piece)
            try await writer.write(data[offset..<end])
            offset = end
        }
    }
}

/// Reads a snapshot's bytes whole; `blocks` receives each block as the reader hands it out.
func readSnapshot<FS: FileSystem>(
    _ store: SnapshotStore<FS>, _ snapshot: SnapshotDescriptor? = nil
) async throws -> [UInt8] {
    let reader = try store.makeReader(for: snapshot)
    var bytes: [UInt8] = []
    while let block = try await reader.next() { bytes += block }
    return bytes
}

/// Reads the snapshot file at `path` block by block, checking that every byte handed out
/// matches `expected` at its position, until the end or an error, which it returns. Wrong
/// data is recorded as a test failure.
func readChecking<FS: FileSystem>(path: String, fileSystem: FS, expected: [UInt8]) async -> SnapshotError? {
    do throws(SnapshotError) {
        let reader = try SnapshotReader(path: path, fileSystem: fileSystem, options: testOptions())
        var position = 0
        while let block = try await reader.next() {
            guard position + block.count <= expected.count,
                Array(expected[position..<(position + block.count)]) == block
            else {
                Issue.record("reader returned wrong bytes at \(position) of \(path)")
                return nil
            }
            position += block.count
        }
        #expect(position == expected.count, "reader ended early without an error")
        return nil
    } catch {
        return error
    }
}

/// Every chunk of a snapshot file, in order.
func allChunks<FS: FileSystem>(
    _ store: SnapshotStore<FS>, _ snapshot: SnapshotDescriptor, chunkSize: Int
) throws -> [SnapshotChunk] {
    let reader = try store.makeChunkReader(for: snapshot, chunkSize: chunkSize)
    var chunks: [SnapshotChunk] = []
    var offset: Int64 = 0
    while offset < reader.fileSize {
        let chunk = try reader.chunk(at: offset)
        chunks.append(chunk)
        offset += Int64(chunk.bytes.count)
    }
    return chunks
}

/// A fresh directory under the system temporary directory, removed by `remove()`.
struct TemporaryDirectory {
    let path: String

    init() {
        path = NSTemporaryDirectory() + "swift-raft-snapshot-tests-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}
