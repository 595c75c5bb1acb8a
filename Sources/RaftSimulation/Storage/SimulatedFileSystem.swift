import struct RaftCore.SplitMix64
import Synchronization
import WAL

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An in-memory `FileSystem` that models what a real disk does to unsynced data in a crash,
/// and injects faults on command.
///
/// Durable and volatile state are kept apart:
/// - File data written or truncated since the file's last `synchronize` is volatile. On
///   `crash()`, every 512-byte sector of the file independently ends up as it was after some
///   prefix of the volatile changes, either in file order (writes lost, whole, or torn at a
///   sector boundary) or scattered (holes of zeros before sectors that landed). A sector
///   never holds a later write's bytes without an earlier one's, as on a real disk, where
///   writeback takes whole sectors from the page cache.
/// - Directory changes (create, rename, remove) since the directory's last
///   `synchronizeDirectory` are volatile; on `crash()` a random prefix of them survives, as a
///   journaling file system commits metadata in order.
/// - A failed `synchronize` drops the file's volatile writes from what can ever become
///   durable, while reads still see them: the "fsyncgate" behaviour of Linux.
///
/// Every choice comes from a seeded generator, so a run is reproducible from its seed.
/// Directories themselves are created durably.
public final class SimulatedFileSystem: FileSystem {
    /// A handle to an open simulated file.
    public struct FileHandle: Sendable, Hashable {
        let id: Int
    }

    /// The disk's sector size: the granularity at which writes tear.
    public static let sectorSize = 512

    private enum FileChange {
        case write(offset: Int, bytes: [UInt8])
        case truncate(size: Int)
    }

    private struct Inode {
        var durable: [UInt8] = []
        var current: [UInt8] = []
        var volatile: [FileChange] = []
    }

    private enum DirectoryChange {
        case link(name: String, inode: Int)
        case unlink(name: String)
        case rename(from: String, to: String)
    }

    private struct Directory {
        var durable: [String: Int] = [:]
        var current: [String: Int] = [:]
        var volatile: [DirectoryChange] = []
    }

    private struct State {
        var random: SplitMix64
        var inodes: [Int: Inode] = [:]
        var directories: [String: Directory] = [:]
        var handles: [Int: (inode: Int, path: String)] = [:]
        var locks: [String: Int] = [:]
        var nextInode = 1
        var nextHandle = 1
        var failNextWrite: FileSystemError.Code?
        var failNextSync: FileSystemError.Code?
        var spaceLeft: Int?
        var operationsBeforePowerCut: Int?
        var powerIsCut = false
        var mutatingOperations = 0
    }

    private let state: Mutex<State>
    private let syncGate = Mutex(SyncGate())

    private struct SyncGate {
        var held = false
        var blocked = 0
        var completed = 0
    }

    /// Creates an empty file system whose crash behaviour follows `seed`.
    public init(seed: UInt64) {
        state = Mutex(State(random: SplitMix64(seed: seed)))
    }

    // MARK: Faults

    /// Makes the next `write` fail with `code` (and write nothing).
    public func failNextWrite(with code: FileSystemError.Code = .ioError) {
        state.withLock { $0.failNextWrite = code }
    }

    /// Makes the next `synchronize` fail with `code`, dropping the file's volatile writes.
    public func failNextSync(with code: FileSystemError.Code = .ioError) {
        state.withLock { $0.failNextSync = code }
    }

    /// Cancels every injected fault that has not fired yet (failing writes and syncs, the
    /// space limit, a power cut), as when the operator fixes the disk.
    public func clearFaults() {
        state.withLock { state in
            state.failNextWrite = nil
            state.failNextSync = nil
            state.spaceLeft = nil
            state.operationsBeforePowerCut = nil
        }
    }

    /// After `bytes` more bytes are written, writes fail with `.noSpace` (writing the part
    /// that fits). Pass nil to make space unlimited again.
    public func limitSpace(to bytes: Int?) {
        state.withLock { $0.spaceLeft = bytes }
    }

    /// After `count` more mutating operations (write, sync, truncate, create, rename, remove),
    /// the power is cut: that operation and every later one fails with `.ioError` and changes
    /// nothing, as if the machine stopped. Follow with `crash()`.
    public func cutPower(afterOperations count: Int) {
        state.withLock {
            $0.operationsBeforePowerCut = count
            $0.powerIsCut = count <= 0
        }
    }

    /// Makes every `synchronize` wait until `releaseSyncs()`, so a test can pile up work
    /// behind an in-flight sync and observe how it is batched.
    public func holdSyncs() {
        syncGate.withLock { $0.held = true }
    }

    /// Lets held and future syncs proceed.
    public func releaseSyncs() {
        syncGate.withLock { $0.held = false }
    }

    /// How many `synchronize` calls are waiting at the gate.
    public var heldSyncCount: Int { syncGate.withLock { $0.blocked } }

    /// How many `synchronize` calls have completed (successfully or not).
    public var syncCount: Int { syncGate.withLock { $0.completed } }

    /// The number of mutating operations so far.
    public var mutatingOperationCount: Int { state.withLock { $0.mutatingOperations } }

    /// Flips one bit of a file's durable and current contents, as bit rot at rest would.
    public func flipBit(path: String, offset: Int, bit: Int = 0) {
        state.withLock { state in
            let (directory, name) = Self.split(path)
            guard let inode = state.directories[directory]?.current[name], var file = state.inodes[inode] else { return }
            if offset < file.durable.count { file.durable[offset] ^= UInt8(1 << (bit & 7)) }
            if offset < file.current.count { file.current[offset] ^= UInt8(1 << (bit & 7)) }
            state.inodes[inode] = file
        }
    }

    /// Simulates a crash and restart: volatile state survives, tears or vanishes as described
    /// above, open handles become invalid, and injected faults are cleared.
    public func crash() {
        state.withLock { state in
            // In name order: the random draws must not depend on the hash seed, or a seed
            // would not reproduce from one process to the next.
            for name in state.directories.keys.sorted() {
                guard var directory = state.directories[name] else { continue }
                let kept = directory.volatile.isEmpty ? 0 : Int.random(in: 0...directory.volatile.count, using: &state.random)
                for change in directory.volatile.prefix(kept) { Self.apply(change, to: &directory.durable) }
                directory.current = directory.durable
                directory.volatile = []
                state.directories[name] = directory
            }
            let reachable = Set(state.directories.values.flatMap { $0.durable.values.compactMap { $0 } })
            for id in Array(state.inodes.keys).sorted() {
                guard reachable.contains(id), var inode = state.inodes[id] else {
                    state.inodes[id] = nil
                    continue
                }
                let contents = Self.imageAfterCrash(durable: inode.durable, volatile: inode.volatile, using: &state.random)
                inode.durable = contents
                inode.current = contents
                inode.volatile = []
                state.inodes[id] = inode
            }
            state.handles = [:]
            state.locks = [:]
            state.failNextWrite = nil
            state.failNextSync = nil
            state.spaceLeft = nil
            state.operationsBeforePowerCut = nil
            state.powerIsCut = false
        }
    }

    /// A file's current contents, or nil if it does not exist.
    public func contents(of path: String) -> [UInt8]? {
        state.withLock { state in
            let (directory, name) = Self.split(path)
            return state.directories[directory]?.current[name].flatMap { state.inodes[$0]?.current }
        }
    }

    // MARK: FileSystem

    /// Drawn from the file system's seed, so salts and temporary names reproduce.
    public func randomIdentifier() -> UInt64 {
        state.withLock { $0.random.next() }
    }

    public func openFile(_ path: String, mode: FileOpenMode) throws(FileSystemError) -> FileHandle {
        try state.withLock { (state: inout State) throws(FileSystemError) -> FileHandle in
            let (directoryPath, name) = Self.split(path)
            guard var directory = state.directories[directoryPath] else {
                throw FileSystemError(code: .notFound, operation: "open", path: path)
            }
            let inode: Int
            switch (mode, directory.current[name]) {
            case (.createNew, .some):
                throw FileSystemError(code: .alreadyExists, operation: "open", path: path)
            case (.createNew, .none):
                try Self.mutate(&state, "open", path)
                inode = state.nextInode
                state.nextInode += 1
                state.inodes[inode] = Inode()
                directory.current[name] = inode
                directory.volatile.append(.link(name: name, inode: inode))
                state.directories[directoryPath] = directory
            case (_, .some(let existing)):
                inode = existing
            case (_, .none):
                throw FileSystemError(code: .notFound, operation: "open", path: path)
            }
            let handle = state.nextHandle
            state.nextHandle += 1
            state.handles[handle] = (inode, path)
            return FileHandle(id: handle)
        }
    }

    public func closeFile(_ file: FileHandle) {
        state.withLock { state in
            state.handles.removeValue(forKey: file.id)
            state.locks = state.locks.filter { $0.value != file.id }
        }
    }

    public func lockFile(_ path: String) throws(FileSystemError) -> FileHandle {
        let exists = state.withLock { state in
            let (directory, name) = Self.split(path)
            return state.directories[directory]?.current[name] != nil
        }
        let file = try openFile(path, mode: exists ? .readWrite : .createNew)
        try state.withLock { (state: inout State) throws(FileSystemError) in
            guard state.locks[path] == nil else {
                state.handles.removeValue(forKey: file.id)
                throw FileSystemError(code: .locked, operation: "flock", path: path)
            }
            state.locks[path] = file.id
        }
        return file
    }

    public func read(
        from file: FileHandle, at offset: Int64, into buffer: UnsafeMutableRawBufferPointer
    ) throws(FileSystemError) -> Int {
        try state.withLock { (state: inout State) throws(FileSystemError) -> Int in
            let (inode, _) = try Self.handle(file, in: state, "pread")
            let contents = state.inodes[inode]!.current
            let start = Int(offset)
            guard start < contents.count else { return 0 }
            let count = min(buffer.count, contents.count - start)
            contents.withUnsafeBytes { source in
                buffer.baseAddress!.copyMemory(from: source.baseAddress! + start, byteCount: count)
            }
            return count
        }
    }

    /// A vectored write is one write, as `pwritev` is: it survives, tears or is lost as a whole.
    public func write(to file: FileHandle, at offset: Int64, from buffers: [UnsafeRawBufferPointer]) throws(FileSystemError) {
        var joined: [UInt8] = []
        joined.reserveCapacity(buffers.reduce(0) { $0 + $1.count })
        for buffer in buffers { joined += buffer }
        try writeCopy(joined, to: file, at: offset)
    }

    public func write(to file: FileHandle, at offset: Int64, from bytes: UnsafeRawBufferPointer) throws(FileSystemError) {
        try writeCopy([UInt8](bytes), to: file, at: offset)
    }

    /// Both writes end here, with the bytes already copied out of the caller's buffers once.
    private func writeCopy(_ bytes: [UInt8], to file: FileHandle, at offset: Int64) throws(FileSystemError) {
        try state.withLock { (state: inout State) throws(FileSystemError) in
            let (inode, path) = try Self.handle(file, in: state, "pwrite")
            try Self.mutate(&state, "pwrite", path)
            if let code = state.failNextWrite {
                state.failNextWrite = nil
                throw FileSystemError(code: code, operation: "pwrite", path: path)
            }
            var data = bytes
            var outOfSpace = false
            if let space = state.spaceLeft {
                if data.count > space {
                    data.removeSubrange(space...)
                    outOfSpace = true
                }
                state.spaceLeft = space - data.count
            }
            let change = FileChange.write(offset: Int(offset), bytes: data)
            Self.apply(change, to: &state.inodes[inode]!.current)
            state.inodes[inode]!.volatile.append(change)
            if outOfSpace { throw FileSystemError(code: .noSpace, operation: "pwrite", path: path) }
        }
    }

    public func synchronize(_ file: FileHandle) throws(FileSystemError) {
        if syncGate.withLock({ gate in
            if gate.held { gate.blocked += 1 }
            return gate.held
        }) {
            while syncGate.withLock({ $0.held }) { usleep(50) }
            syncGate.withLock { $0.blocked -= 1 }
        }
        defer { syncGate.withLock { $0.completed += 1 } }
        try state.withLock { (state: inout State) throws(FileSystemError) in
            let (inode, path) = try Self.handle(file, in: state, "fdatasync")
            try Self.mutate(&state, "fdatasync", path)
            if let code = state.failNextSync {
                state.failNextSync = nil
                state.inodes[inode]!.volatile = []
                throw FileSystemError(code: code, operation: "fdatasync", path: path)
            }
            // In place: copying the inode out would copy the whole file on every sync.
            let changes = state.inodes[inode]!.volatile
            state.inodes[inode]!.volatile = []
            for change in changes { Self.apply(change, to: &state.inodes[inode]!.durable) }
        }
    }

    public func truncate(_ file: FileHandle, to size: Int64) throws(FileSystemError) {
        try state.withLock { (state: inout State) throws(FileSystemError) in
            let (inode, path) = try Self.handle(file, in: state, "ftruncate")
            try Self.mutate(&state, "ftruncate", path)
            let change = FileChange.truncate(size: Int(size))
            Self.apply(change, to: &state.inodes[inode]!.current)
            state.inodes[inode]!.volatile.append(change)
        }
    }

    public func size(of file: FileHandle) throws(FileSystemError) -> Int64 {
        try state.withLock { (state: inout State) throws(FileSystemError) -> Int64 in
            let (inode, _) = try Self.handle(file, in: state, "fstat")
            return Int64(state.inodes[inode]!.current.count)
        }
    }

    public func rename(_ source: String, to destination: String) throws(FileSystemError) {
        try state.withLock { (state: inout State) throws(FileSystemError) in
            let (sourceDirectory, sourceName) = Self.split(source)
            let (destinationDirectory, destinationName) = Self.split(destination)
            guard sourceDirectory == destinationDirectory, var directory = state.directories[sourceDirectory],
                let inode = directory.current[sourceName]
            else { throw FileSystemError(code: .notFound, operation: "rename", path: source) }
            try Self.mutate(&state, "rename", source)
            directory.current[sourceName] = nil
            directory.current[destinationName] = inode
            directory.volatile.append(.rename(from: sourceName, to: destinationName))
            state.directories[sourceDirectory] = directory
        }
    }

    public func removeFile(_ path: String) throws(FileSystemError) {
        try state.withLock { (state: inout State) throws(FileSystemError) in
            let (directoryPath, name) = Self.split(path)
            guard var directory = state.directories[directoryPath], directory.current[name] != nil else {
                throw FileSystemError(code: .notFound, operation: "unlink", path: path)
            }
            try Self.mutate(&state, "unlink", path)
            directory.current[name] = nil
            directory.volatile.append(.unlink(name: name))
            state.directories[directoryPath] = directory
        }
    }

    public func contentsOfDirectory(_ path: String) throws(FileSystemError) -> [String] {
        try state.withLock { (state: inout State) throws(FileSystemError) -> [String] in
            guard let directory = state.directories[path] else {
                throw FileSystemError(code: .notFound, operation: "opendir", path: path)
            }
            return directory.current.keys.sorted()
        }
    }

    public func synchronizeDirectory(_ path: String) throws(FileSystemError) {
        try state.withLock { (state: inout State) throws(FileSystemError) in
            guard var directory = state.directories[path] else {
                throw FileSystemError(code: .notFound, operation: "fsync", path: path)
            }
            try Self.mutate(&state, "fsync", path)
            directory.durable = directory.current
            directory.volatile = []
            state.directories[path] = directory
        }
    }

    public func createDirectory(_ path: String) throws(FileSystemError) {
        state.withLock { state in
            if state.directories[path] == nil { state.directories[path] = Directory() }
        }
    }

    // MARK: Helpers

    private static func split(_ path: String) -> (directory: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return ("", path) }
        return (String(path[..<slash]), String(path[path.index(after: slash)...]))
    }

    private static func handle(_ file: FileHandle, in state: State, _ operation: String) throws(FileSystemError)
        -> (inode: Int, path: String)
    {
        guard let entry = state.handles[file.id], state.inodes[entry.inode] != nil else {
            throw FileSystemError(code: .other, operation: operation, path: "<closed handle>")
        }
        return entry
    }

    /// Counts a mutating operation, and refuses it once the power is cut.
    private static func mutate(_ state: inout State, _ operation: String, _ path: String) throws(FileSystemError) {
        if let remaining = state.operationsBeforePowerCut {
            if remaining <= 0 { state.powerIsCut = true }
            state.operationsBeforePowerCut = remaining - 1
        }
        guard !state.powerIsCut else {
            throw FileSystemError(code: .ioError, operation: operation, path: path)
        }
        state.mutatingOperations += 1
    }

    /// What a file holds after a crash, given its durable contents and its unsynced changes.
    ///
    /// The page cache held the file as it was after each prefix of the changes, and the disk
    /// writes a 512-byte sector back atomically at any moment, so every sector of the result
    /// comes from one of those versions: a sector never holds a later write's bytes without
    /// an earlier one's. Half the time sectors are written back in file order (a prefix of
    /// the changes made it, and the next one tore at a sector boundary); otherwise each
    /// sector independently picks its version, which leaves holes before sectors that landed.
    private static func imageAfterCrash(
        durable: [UInt8], volatile: [FileChange], using random: inout SplitMix64
    ) -> [UInt8] {
        guard !volatile.isEmpty else { return durable }
        var versions = [durable]
        for change in volatile {
            var next = versions[versions.count - 1]
            apply(change, to: &next)
            versions.append(next)
        }
        let sectorCount = (versions.map(\.count).max()! + sectorSize - 1) / sectorSize
        let choices: [Int]
        if Bool.random(using: &random) {
            let complete = Int.random(in: 0..<versions.count, using: &random)
            let torn = min(complete + 1, versions.count - 1)
            let boundary = Int.random(in: 0...sectorCount, using: &random)
            choices = (0..<sectorCount).map { $0 < boundary ? torn : complete }
        } else {
            choices = (0..<sectorCount).map { _ in Int.random(in: 0..<versions.count, using: &random) }
        }
        var pieces: [(start: Int, bytes: ArraySlice<UInt8>)] = []
        for (sector, version) in choices.enumerated() {
            let start = sector * sectorSize
            let end = min(start + sectorSize, versions[version].count)
            if start < end { pieces.append((start, versions[version][start..<end])) }
        }
        var image = [UInt8](repeating: 0, count: pieces.last.map { $0.start + $0.bytes.count } ?? 0)
        for piece in pieces { image.replaceSubrange(piece.start..<(piece.start + piece.bytes.count), with: piece.bytes) }
        return image
    }

    private static func apply(_ change: FileChange, to contents: inout [UInt8]) {
        switch change {
        case .write(let offset, let bytes):
            // Appends, the log's usual write, go straight on the end: no zero fill to overwrite.
            if offset == contents.count {
                contents.append(contentsOf: bytes)
                return
            }
            if contents.count < offset + bytes.count {
                contents += [UInt8](repeating: 0, count: offset + bytes.count - contents.count)
            }
            contents.replaceSubrange(offset..<(offset + bytes.count), with: bytes)
        case .truncate(let size):
            if size < contents.count {
                contents.removeSubrange(size...)
            } else {
                contents += [UInt8](repeating: 0, count: size - contents.count)
            }
        }
    }

    private static func apply(_ change: DirectoryChange, to entries: inout [String: Int]) {
        switch change {
        case .link(let name, let inode): entries[name] = inode
        case .unlink(let name): entries[name] = nil
        case .rename(let source, let destination):
            entries[destination] = entries[source]
            entries[source] = nil
        }
    }
}
