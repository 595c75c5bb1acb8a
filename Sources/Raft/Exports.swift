// `import Raft` is all an application needs: the runtime's public API is made of the core's
// types (node ids, messages, configurations), the storage engine's (`PosixFileSystem`,
// `SnapshotSink`, `SnapshotError`), so both modules come with it.
@_exported import RaftCore
@_exported import WAL
