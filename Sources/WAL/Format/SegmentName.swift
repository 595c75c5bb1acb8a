/// Segment file names: `<sequence>-<first index>.wal`, both as 20 zero-padded decimal digits,
/// so that a plain sort orders segments by sequence and the name alone tells where each starts.
enum SegmentName {
    static let suffix = ".wal"
    /// Files being prepared carry this suffix after their segment name until they are
    /// complete and synced; recovery deletes any it finds (and no other `.tmp` file).
    static let temporarySuffix = ".tmp"

    /// A segment prepared ahead (``SegmentPreparer``) is named by its sequence alone, with
    /// this suffix, until a rollover gives it its first index and its segment name.
    static let preparedSuffix = ".prepared" + temporarySuffix

    static func prepared(sequence: UInt64) -> String {
        padded(sequence) + preparedSuffix
    }

    /// Whether `name` is a prepared segment's name.
    static func isPrepared(_ name: String) -> Bool {
        guard name.hasSuffix(preparedSuffix) else { return false }
        let digits = name.dropLast(preparedSuffix.count)
        return digits.utf8.count == 20 && UInt64(digits) != nil
    }

    static func make(sequence: UInt64, firstIndex: UInt64) -> String {
        "\(padded(sequence))-\(padded(firstIndex))\(suffix)"
    }

    /// Parses a segment name, or returns nil for any other file.
    static func parse(_ name: String) -> (sequence: UInt64, firstIndex: UInt64)? {
        guard name.hasSuffix(suffix), name.utf8.count == 20 + 1 + 20 + suffix.utf8.count else {
            return nil
        }
        let parts = name.dropLast(suffix.count).split(separator: "-")
        guard parts.count == 2, parts.allSatisfy({ $0.utf8.count == 20 }),
            let sequence = UInt64(parts[0]), let firstIndex = UInt64(parts[1])
        else { return nil }
        return (sequence, firstIndex)
    }

    private static func padded(_ value: UInt64) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits
    }
}
