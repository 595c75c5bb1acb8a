/// A failed file-system operation.
public struct FileSystemError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, in the terms the WAL acts on.
    public enum Code: Sendable, Hashable {
        /// The device reported an I/O error (`EIO`).
        case ioError
        /// The device is full (`ENOSPC`, `EDQUOT`).
        case noSpace
        /// The file or directory does not exist.
        case notFound
        /// The file already exists.
        case alreadyExists
        /// Permission was denied.
        case permissionDenied
        /// Another holder has the lock.
        case locked
        /// A read found fewer bytes than it needed.
        case unexpectedEndOfFile
        /// Any other `errno`.
        case other
    }

    /// The kind of failure.
    public var code: Code
    /// The operation that failed, such as `"fdatasync"`.
    public var operation: String
    /// The path involved.
    public var path: String
    /// The raw `errno`, when the failure came from the operating system.
    public var errno: Int32?

    /// Creates an error.
    public init(code: Code, operation: String, path: String, errno: Int32? = nil) {
        self.code = code
        self.operation = operation
        self.path = path
        self.errno = errno
    }

    public var description: String {
        guard let errno else { return "\(operation) \(path): \(code)" }
        let name = ErrnoName.name(errno)
        // `other` says nothing an errno name does not say better.
        let kind = code == .other ? name ?? "\(code)" : "\(code)"
        let detail = name.map { code == .other ? "errno \(errno)" : "\($0), errno \(errno)" } ?? "errno \(errno)"
        return "\(operation) \(path): \(kind) (\(detail))"
    }
}
