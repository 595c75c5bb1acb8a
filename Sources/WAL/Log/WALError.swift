/// Every error the write-ahead log reports.
public enum WALError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Bytes on disk fail a check in a place where a crash cannot explain them. The log is
    /// never silently truncated past such a point; an operator (or a peer) must repair it.
    case corruption(file: String, offset: Int64, reason: String)
    /// A file was written by a format version this build does not read.
    case unsupportedVersion(file: String, version: UInt32)
    /// The device reported an I/O error. The instance is failed: reopen it to recover.
    case ioFailure(FileSystemError)
    /// The device is full. The instance is failed; reopen it once space is free.
    case diskFull(FileSystemError)
    /// An earlier write or sync failed, so this instance accepts nothing more. Reopening
    /// recovers from what is on disk. (A failed fsync is never retried: the kernel may have
    /// dropped the data it failed to write.)
    indirect case failed(cause: WALError)
    /// The log was closed.
    case closed
    /// Another process (or another instance in this one) has the log open.
    case directoryLocked(String)
    /// An appended entry's index does not continue the log.
    case nonContiguousIndex(expected: UInt64, found: UInt64)
    /// A read asked for an index outside `firstIndex...lastIndex`.
    case indexOutOfRange(index: UInt64, firstIndex: UInt64, lastIndex: UInt64)
    /// A payload is larger than `WALOptions.maxPayloadSize`.
    case payloadTooLarge(size: Int, limit: Int)
    /// A truncation asked for something the log cannot do.
    case invalidTruncation(String)
    /// A `WALOptions` value no log can work with; nothing was written.
    case invalidOptions(String)
    /// The log's writer or sync thread could not be started (`pthread_create` returned
    /// `errno`, such as EAGAIN at a process's thread limit); nothing was opened.
    case threadStartFailed(errno: Int32)

    public var description: String {
        switch self {
        case .corruption(let file, let offset, let reason):
            return "corruption in \(file) at byte \(offset): \(reason)"
        case .unsupportedVersion(let file, let version):
            return "\(file) has unsupported format version \(version)"
        case .ioFailure(let error): return "I/O failure: \(error)"
        case .diskFull(let error): return "disk full: \(error)"
        case .failed(let cause): return "write-ahead log failed earlier: \(cause)"
        case .closed: return "write-ahead log is closed"
        case .directoryLocked(let path): return "\(path) is locked: another process has this log open"
        case .nonContiguousIndex(let expected, let found):
            return "entry index \(found) does not continue the log (expected \(expected))"
        case .indexOutOfRange(let index, let first, let last):
            return "index \(index) is outside the log (\(first)...\(last))"
        case .payloadTooLarge(let size, let limit):
            return "payload of \(size) bytes exceeds the limit of \(limit)"
        case .invalidTruncation(let reason): return "invalid truncation: \(reason)"
        case .invalidOptions(let reason): return "invalid options: \(reason)"
        case .threadStartFailed(let number):
            return "cannot start the log's threads: \(ErrnoName.name(number) ?? "errno \(number)")"
        }
    }

    init(_ error: FileSystemError) {
        self = error.code == .noSpace ? .diskFull(error) : .ioFailure(error)
    }
}

/// Runs a file-system call, reporting its failure as the WAL's error.
@inline(__always)
func performIO<T>(_ body: () throws(FileSystemError) -> T) throws(WALError) -> T {
    do { return try body() } catch { throw WALError(error) }
}
