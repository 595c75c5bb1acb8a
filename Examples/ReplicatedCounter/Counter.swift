import Raft

/// The replicated state: one integer. Each command is a little-endian `Int64` to add.
struct Counter: StateMachine {
    private(set) var value: Int64 = 0

    /// Adds each command's amount; the output is the value after it.
    mutating func apply(_ commands: [CommittedCommand]) throws -> [Int64] {
        try commands.map { command in
            guard command.data.count == 8 else { throw CounterError.notAnAmount(index: command.index) }
            value &+= command.data.withUnsafeBytes { Int64(littleEndian: $0.loadUnaligned(as: Int64.self)) }
            return value
        }
    }

    func writeSnapshot(to sink: inout some SnapshotSink) async throws {
        try await sink.write(Self.encode(value))
    }

    mutating func restore(from snapshot: some AsyncSequence<[UInt8], SnapshotError>) async throws {
        var bytes: [UInt8] = []
        for try await chunk in snapshot { bytes += chunk }
        guard bytes.count == 8 else { throw CounterError.badSnapshot(bytes: bytes.count) }
        value = bytes.withUnsafeBytes { Int64(littleEndian: $0.loadUnaligned(as: Int64.self)) }
    }

    /// The command that adds `amount`.
    static func encode(_ amount: Int64) -> [UInt8] {
        withUnsafeBytes(of: amount.littleEndian) { Array($0) }
    }
}

enum CounterError: Error {
    case notAnAmount(index: UInt64)
    case badSnapshot(bytes: Int)
}
