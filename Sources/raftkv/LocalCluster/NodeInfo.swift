/// The fields of a member's `INFO` reply that the demo reads.
struct NodeInfo: Sendable {
    var fields: [String: String]

    init(parsing text: String) {
        var fields: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[String(line[..<colon])] = String(line[line.index(after: colon)...])
        }
        self.fields = fields
    }

    var isLeader: Bool { fields["role"] == "leader" }
    var leaderID: Int? { fields["leader_id"].flatMap(Int.init).flatMap { $0 == 0 ? nil : $0 } }
    var term: UInt64 { number("term") }
    var commitIndex: UInt64 { number("commit_index") }
    var appliedIndex: UInt64 { number("applied_index") }
    var snapshotIndex: UInt64 { number("snapshot_index") }
    var lastIndex: UInt64 { number("last_index") }

    private func number(_ field: String) -> UInt64 { fields[field].flatMap(UInt64.init) ?? 0 }
}
