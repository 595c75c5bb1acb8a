import WAL

/// What `wal verify` checks, from the path it is given: a node directory (`log/` and
/// `snapshots/` side by side, as `RaftNode` lays them out), a node's `log/` directory, or a
/// log directory on its own.
struct VerifyTarget {
    /// The node directory, when the path is one (or is a node's `log/`).
    var node: String?
    /// The log directory.
    var log: String
    /// The directories whose snapshot files are checked.
    var snapshotFolders: [String]

    /// Works out the layout. Throws the file-system error of an explicit `--snapshots` path
    /// that cannot be listed: a path the operator named is never skipped.
    init(path: String, snapshots: String?, fileSystem: PosixFileSystem) throws(FileSystemError) {
        if let snapshots { _ = try fileSystem.contentsOfDirectory(snapshots) }
        func isDirectory(_ path: String) -> Bool { (try? fileSystem.contentsOfDirectory(path)) != nil }
        let trimmed = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
        let parent = trimmed.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        if isDirectory(trimmed + "/log") {
            node = trimmed
        } else if trimmed.split(separator: "/").last == "log", snapshots == nil,
            isDirectory((parent.isEmpty && !trimmed.hasPrefix("/") ? "." : parent) + "/snapshots")
        {
            // `node/log`: its snapshots are the node's, beside it, not inside it.
            node = parent.isEmpty && !trimmed.hasPrefix("/") ? "." : parent
        }
        if let node {
            log = node + "/log"
            snapshotFolders = [snapshots ?? node + "/snapshots"]
        } else {
            log = trimmed
            let other = snapshots ?? trimmed + "/snapshots"
            snapshotFolders = other == trimmed ? [trimmed] : [trimmed, other]
        }
    }
}
