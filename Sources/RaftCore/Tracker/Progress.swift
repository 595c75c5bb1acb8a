/// The leader's view of one follower's log.
struct Progress: Sendable {
    /// The highest index known to match the leader's log.
    var match: UInt64 = 0
    /// The next index to send.
    var next: UInt64
    private(set) var state: ProgressState = .probe
    /// The snapshot index being sent, in ``ProgressState/snapshot``.
    private(set) var pendingSnapshot: UInt64 = 0
    /// The highest commit index the follower reported durable.
    var durableCommit: UInt64 = 0
    /// Whether the follower answered since the last check-quorum round.
    var recentActive = false
    /// In probe state: a probe is outstanding, so wait before sending another.
    var probeSent = false
    var inflights: Inflights
    var isLearner: Bool

    init(next: UInt64, isLearner: Bool, maxInflightMessages: Int, maxInflightBytes: Int) {
        self.next = next
        self.isLearner = isLearner
        inflights = Inflights(maxCount: maxInflightMessages, maxBytes: maxInflightBytes)
    }

    private mutating func reset(to newState: ProgressState) {
        probeSent = false
        pendingSnapshot = 0
        state = newState
        inflights.reset()
    }

    mutating func becomeProbe() {
        if state == .snapshot {
            // Resume after the snapshot, which the follower may now hold.
            let snapshotIndex = pendingSnapshot
            reset(to: .probe)
            next = max(match + 1, snapshotIndex + 1)
        } else {
            reset(to: .probe)
            next = match + 1
        }
    }

    mutating func becomeReplicate() {
        reset(to: .replicate)
        next = match + 1
    }

    mutating func becomeSnapshot(index: UInt64) {
        reset(to: .snapshot)
        pendingSnapshot = index
    }

    /// Records an acknowledgement through `index`; returns whether `match`
    /// moved.
    mutating func acknowledge(through index: UInt64) -> Bool {
        var updated = false
        if match < index {
            match = index
            updated = true
            probeSent = false
        }
        next = max(next, index + 1)
        return updated
    }

    /// Records that an append ending at `lastIndex` was sent.
    mutating func sentEntries(count: Int, bytes: Int, lastIndex: UInt64) {
        switch state {
        case .replicate:
            if count > 0 {
                next = lastIndex + 1
                inflights.add(index: lastIndex, bytes: bytes)
            }
        case .probe:
            probeSent = true
        case .snapshot:
            break
        }
    }

    /// Handles a rejection of the append whose previous index was `rejected`;
    /// `hint` is the leader-side index to try next. Returns `false` when the
    /// rejection is stale and must be ignored.
    mutating func backOff(rejected: UInt64, hint: UInt64) -> Bool {
        if state == .replicate {
            // Everything up to `match` is known good; a rejection at or below
            // it is a late reply to an older append.
            guard rejected > match else { return false }
            next = match + 1
            return true
        }
        // In probe state only the outstanding probe's rejection counts.
        guard next > 0, rejected == next - 1 else { return false }
        next = max(min(rejected, hint == .max ? hint : hint + 1), match + 1)
        probeSent = false
        return true
    }

    /// Whether the leader must hold off sending appends.
    var isPaused: Bool {
        switch state {
        case .probe: probeSent
        case .replicate: inflights.isFull
        case .snapshot: true
        }
    }
}
