#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The production `FileSystem`: thin wrappers over POSIX calls that retry `EINTR` and
/// short transfers, and map `errno` to `FileSystemError`.
public struct PosixFileSystem: FileSystem {
    /// An open POSIX file descriptor, with its path for error messages.
    public struct FileHandle: Sendable {
        /// The descriptor.
        public let descriptor: Int32
        /// The path it was opened with.
        public let path: String
    }

    /// Creates the file system.
    public init() {}

    public func openFile(_ path: String, mode: FileOpenMode) throws(FileSystemError) -> FileHandle {
        let flags: Int32
        switch mode {
        case .readOnly: flags = O_RDONLY
        case .readWrite: flags = O_RDWR
        case .createNew: flags = O_RDWR | O_CREAT | O_EXCL
        }
        while true {
            let descriptor = open(path, flags | O_CLOEXEC, 0o644)
            if descriptor >= 0 { return FileHandle(descriptor: descriptor, path: path) }
            if errno == EINTR { continue }
            throw Self.error("open", path)
        }
    }

    public func closeFile(_ file: FileHandle) {
        _ = close(file.descriptor)
    }

    public func read(
        from file: FileHandle, at offset: Int64, into buffer: UnsafeMutableRawBufferPointer
    ) throws(FileSystemError) -> Int {
        var done = 0
        while done < buffer.count {
            let count = pread(
                file.descriptor, buffer.baseAddress! + done, buffer.count - done,
                off_t(offset) + off_t(done))
            if count > 0 {
                done += count
            } else if count == 0 {
                break
            } else if errno != EINTR {
                throw Self.error("pread", file.path)
            }
        }
        return done
    }

    public func write(
        to file: FileHandle, at offset: Int64, from bytes: UnsafeRawBufferPointer
    ) throws(FileSystemError) {
        var done = 0
        while done < bytes.count {
            let count = pwrite(
                file.descriptor, bytes.baseAddress! + done, bytes.count - done,
                off_t(offset) + off_t(done))
            if count > 0 {
                done += count
            } else if count < 0 && errno != EINTR {
                throw Self.error("pwrite", file.path)
            } else if count == 0 {
                // pwrite returning 0 for a non-empty buffer means the device accepts no more.
                throw FileSystemError(code: .noSpace, operation: "pwrite", path: file.path)
            }
        }
    }

    public func write(
        to file: FileHandle, at offset: Int64, from buffers: [UnsafeRawBufferPointer]
    ) throws(FileSystemError) {
        var vectors = buffers.filter { $0.count > 0 }.map {
            iovec(iov_base: UnsafeMutableRawPointer(mutating: $0.baseAddress), iov_len: $0.count)
        }
        var first = 0
        var position = off_t(offset)
        while first < vectors.count {
            // At most IOV_MAX vectors per call; a short write resumes inside a vector.
            let count = min(vectors.count - first, 1024)
            let written = vectors.withUnsafeBufferPointer {
                pwritev(file.descriptor, $0.baseAddress! + first, Int32(count), position)
            }
            if written < 0 {
                if errno == EINTR { continue }
                throw Self.error("pwritev", file.path)
            }
            if written == 0 { throw FileSystemError(code: .noSpace, operation: "pwritev", path: file.path) }
            position += off_t(written)
            var remaining = written
            while remaining > 0 && remaining >= vectors[first].iov_len {
                remaining -= vectors[first].iov_len
                first += 1
            }
            if remaining > 0 {
                vectors[first].iov_base += remaining
                vectors[first].iov_len -= remaining
            }
        }
    }

    public func synchronize(_ file: FileHandle) throws(FileSystemError) {
        // Never retried, not even on EINTR: after a failed fdatasync the kernel may already
        // have dropped the dirty pages, so a second call could report success for lost data.
        guard fdatasync(file.descriptor) == 0 else { throw Self.error("fdatasync", file.path) }
    }

    public func truncate(_ file: FileHandle, to size: Int64) throws(FileSystemError) {
        while ftruncate(file.descriptor, off_t(size)) != 0 {
            if errno != EINTR { throw Self.error("ftruncate", file.path) }
        }
    }

    public func size(of file: FileHandle) throws(FileSystemError) -> Int64 {
        var status = stat()
        guard fstat(file.descriptor, &status) == 0 else { throw Self.error("fstat", file.path) }
        return Int64(status.st_size)
    }

    public func rename(_ source: String, to destination: String) throws(FileSystemError) {
        #if canImport(Glibc)
        let result = Glibc.rename(source, destination)
        #else
        let result = Darwin.rename(source, destination)
        #endif
        guard result == 0 else { throw Self.error("rename", "\(source) -> \(destination)") }
    }

    public func removeFile(_ path: String) throws(FileSystemError) {
        guard unlink(path) == 0 else { throw Self.error("unlink", path) }
    }

    public func contentsOfDirectory(_ path: String) throws(FileSystemError) -> [String] {
        guard let directory = opendir(path) else { throw Self.error("opendir", path) }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    public func synchronizeDirectory(_ path: String) throws(FileSystemError) {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw Self.error("open", path) }
        defer { _ = close(descriptor) }
        guard fsync(descriptor) == 0 else { throw Self.error("fsync", path) }
    }

    public func createDirectory(_ path: String) throws(FileSystemError) {
        guard mkdir(path, 0o755) == 0 || errno == EEXIST else { throw Self.error("mkdir", path) }
    }

    public func lockFile(_ path: String) throws(FileSystemError) -> FileHandle {
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw Self.error("open", path) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let failure = errno == EWOULDBLOCK
                ? FileSystemError(code: .locked, operation: "flock", path: path, errno: errno)
                : Self.error("flock", path)
            _ = close(descriptor)
            throw failure
        }
        return FileHandle(descriptor: descriptor, path: path)
    }

    private static func error(_ operation: String, _ path: String) -> FileSystemError {
        let number = errno
        let code: FileSystemError.Code
        switch number {
        case EIO: code = .ioError
        case ENOSPC, EDQUOT: code = .noSpace
        case ENOENT: code = .notFound
        case EEXIST: code = .alreadyExists
        case EACCES, EPERM: code = .permissionDenied
        default: code = .other
        }
        return FileSystemError(code: code, operation: operation, path: path, errno: number)
    }
}
