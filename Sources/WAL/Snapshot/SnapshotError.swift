/// Every error the snapshot store, its readers, writers and receivers report.
public enum SnapshotError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The part of a snapshot file that failed a check.
    public enum Region: Sendable, Hashable, CustomStringConvertible {
        /// The header, with the snapshot's identity and metadata.
        case header
        /// The block with this ordinal (0 is the first).
        case block(UInt64)
        /// The trailer at the end of the file.
        case trailer

        public var description: String {
            switch self {
            case .header: return "header"
            case .block(let ordinal): return "block \(ordinal)"
            case .trailer: return "trailer"
            }
        }
    }

    /// Bytes of a snapshot file fail a check. Nothing from a damaged region is ever returned
    /// as snapshot data.
    case corruption(file: String, region: Region, offset: Int64, reason: String)
    /// A snapshot file was written by a format version this build does not read.
    case unsupportedVersion(file: String, version: UInt32)
    /// The device reported an I/O error.
    case ioFailure(FileSystemError)
    /// The device is full.
    case diskFull(FileSystemError)
    /// A caller passed an argument outside the documented limits.
    case invalidArgument(String)
    /// A received chunk's bytes do not match the CRC32C it came with.
    case chunkChecksumMismatch(offset: Int64)
    /// A received chunk starts after the end of the bytes received so far: an earlier chunk
    /// is missing. The sender should resend from `expectedOffset`.
    case chunkOutOfOrder(expectedOffset: Int64, offset: Int64)
    /// A received chunk overlaps bytes already received but differs from them.
    case chunkConflict(offset: Int64)
    /// A received file is a valid snapshot, but not the one the receiver was made for.
    case snapshotMismatch(expectedIndex: UInt64, expectedTerm: UInt64, foundIndex: UInt64, foundTerm: UInt64)
    /// A snapshot older than the one in force was offered for installation.
    case staleSnapshot(lastIndex: UInt64, term: UInt64, inForceIndex: UInt64)
    /// No snapshot on disk, together with the log, reaches the state that was acknowledged.
    /// `corrupt` lists the damaged snapshot files that were found.
    case noUsableSnapshot(reason: String, corrupt: [String])
    /// Recording a snapshot in the log failed, so older snapshots were kept.
    case logFailure(WALError)
    /// The writer, reader or receiver was already finished or aborted.
    case closed

    public var description: String {
        switch self {
        case .corruption(let file, let region, let offset, let reason):
            return "corruption in \(file), \(region), at byte \(offset): \(reason)"
        case .unsupportedVersion(let file, let version):
            return "\(file) has unsupported snapshot format version \(version)"
        case .ioFailure(let error): return "I/O failure: \(error)"
        case .diskFull(let error): return "disk full: \(error)"
        case .invalidArgument(let reason): return "invalid argument: \(reason)"
        case .chunkChecksumMismatch(let offset): return "received chunk at offset \(offset) fails its CRC32C"
        case .chunkOutOfOrder(let expected, let offset):
            return "received chunk at offset \(offset), but bytes are missing from offset \(expected)"
        case .chunkConflict(let offset):
            return "received chunk at offset \(offset) differs from bytes already received there"
        case .snapshotMismatch(let expectedIndex, let expectedTerm, let foundIndex, let foundTerm):
            return "received snapshot is (index \(foundIndex), term \(foundTerm)), "
                + "expected (index \(expectedIndex), term \(expectedTerm))"
        case .staleSnapshot(let lastIndex, let term, let inForce):
            return "snapshot (index \(lastIndex), term \(term)) is older than the one in force (index \(inForce))"
        case .noUsableSnapshot(let reason, let corrupt):
            let files = corrupt.isEmpty ? "" : " (corrupt: \(corrupt.joined(separator: ", ")))"
            return "no usable snapshot: \(reason)\(files)"
        case .logFailure(let error): return "recording the snapshot in the log failed: \(error)"
        case .closed: return "the snapshot operation was already finished or aborted"
        }
    }

    init(_ error: FileSystemError) {
        self = error.code == .noSpace ? .diskFull(error) : .ioFailure(error)
    }
}
