/// How `FileSystem.openFile(_:mode:)` opens a file.
public enum FileOpenMode: Sendable, Hashable {
    /// Open an existing file for reading only.
    case readOnly
    /// Open an existing file for reading and writing.
    case readWrite
    /// Create a new file for reading and writing; fail with `.alreadyExists` if it exists.
    case createNew
}

/// The file operations the write-ahead log needs, and nothing more.
///
/// All of the WAL's I/O goes through this seam so that the same engine runs on a real disk
/// (`PosixFileSystem`) and on a simulated one that loses unsynced writes, tears writes and
/// injects errors on command (`SimulatedFileSystem` in `RaftSimulation`). The WAL is generic
/// over its file system, so the production hot path is specialized and pays no dynamic dispatch.
///
/// Semantics follow POSIX: data written with `write` is durable only after `synchronize` on
/// the file, and a created, renamed or removed name is durable only after
/// `synchronizeDirectory` on its parent directory.
public protocol FileSystem: Sendable {
    /// An open file.
    associatedtype FileHandle: Sendable

    /// A random number, for file salts and temporary names. `SimulatedFileSystem` draws it
    /// from its seed, so that a simulated run reproduces byte for byte.
    func randomIdentifier() -> UInt64

    /// Opens (or creates) the file at `path`.
    func openFile(_ path: String, mode: FileOpenMode) throws(FileSystemError) -> FileHandle

    /// Closes a file. Errors on close are ignored: durability comes from `synchronize`.
    func closeFile(_ file: FileHandle)

    /// Reads up to `buffer.count` bytes at `offset`. Returns fewer only at end of file.
    func read(
        from file: FileHandle, at offset: Int64, into buffer: UnsafeMutableRawBufferPointer
    ) throws(FileSystemError) -> Int

    /// Writes all of `bytes` at `offset`, extending the file as needed.
    func write(
        to file: FileHandle, at offset: Int64, from bytes: UnsafeRawBufferPointer
    ) throws(FileSystemError)

    /// Writes all of `buffers`, one after another, starting at `offset` (`pwritev`).
    func write(
        to file: FileHandle, at offset: Int64, from buffers: [UnsafeRawBufferPointer]
    ) throws(FileSystemError)

    /// Makes the file's data durable (`fdatasync`).
    func synchronize(_ file: FileHandle) throws(FileSystemError)

    /// Sets the file's size.
    func truncate(_ file: FileHandle, to size: Int64) throws(FileSystemError)

    /// The file's current size.
    func size(of file: FileHandle) throws(FileSystemError) -> Int64

    /// Atomically renames `source` to `destination`, replacing it if it exists.
    func rename(_ source: String, to destination: String) throws(FileSystemError)

    /// Removes the file at `path`.
    func removeFile(_ path: String) throws(FileSystemError)

    /// The names (not paths) of the entries in a directory, excluding `.` and `..`.
    func contentsOfDirectory(_ path: String) throws(FileSystemError) -> [String]

    /// Makes the directory's entries durable (`fsync` on the directory).
    func synchronizeDirectory(_ path: String) throws(FileSystemError)

    /// Creates a directory. Succeeds if it already exists.
    func createDirectory(_ path: String) throws(FileSystemError)

    /// Creates (if needed) and exclusively locks the file at `path`, so that a second process
    /// cannot open the same log; the lock lasts until `closeFile`. Fails with `.locked` if
    /// another holder has it.
    func lockFile(_ path: String) throws(FileSystemError) -> FileHandle
}

extension FileSystem {
    /// Writes all of `bytes` at `offset`.
    func write(_ bytes: [UInt8], to file: FileHandle, at offset: Int64) throws(FileSystemError) {
        var failure: FileSystemError?
        bytes.withUnsafeBytes { raw in
            do throws(FileSystemError) { try write(to: file, at: offset, from: raw) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Reads up to `count` bytes at `offset`; fewer only at end of file.
    func read(count: Int, from file: FileHandle, at offset: Int64) throws(FileSystemError) -> [UInt8] {
        var failure: FileSystemError?
        var bytes = [UInt8](repeating: 0, count: count)
        let found = bytes.withUnsafeMutableBytes { raw -> Int in
            do throws(FileSystemError) { return try self.read(from: file, at: offset, into: raw) } catch {
                failure = error
                return 0
            }
        }
        if let failure { throw failure }
        bytes.removeSubrange(found...)
        return bytes
    }
}

extension FileSystem {
    /// A random number from the system's generator.
    public func randomIdentifier() -> UInt64 {
        UInt64.random(in: 0...UInt64.max)
    }
}
