/// Decides whether a thread about to sleep should poll for work first, from whether polling
/// paid off lately.
///
/// Polling saves a futex wake-up (tens of microseconds) when the next piece of work arrives
/// within the window, as it does for one caller that appends again the moment its append
/// completes. When work arrives later than that, as in a Raft node whose appends come a
/// round trip apart, every poll is a core burnt for nothing, taken from the run loops the
/// log serves: with three nodes on two cores, polling raised the median commit latency by
/// 10–20 %. So a thread polls while polls succeed; after a failed one it sleeps at once for
/// the next `backoff` waits, then tries polling again.
struct AdaptiveSpin {
    static let window = Duration.microseconds(50)
    static let backoff = 32

    private var waitsToSkip = 0

    /// Polls `hasWork` for up to `window`, unless recent polls found nothing.
    mutating func poll(until hasWork: () -> Bool) {
        if hasWork() { return }
        guard waitsToSkip == 0 else {
            waitsToSkip -= 1
            return
        }
        let clock = ContinuousClock()
        let end = clock.now + Self.window
        while clock.now < end {
            if hasWork() { return }
        }
        waitsToSkip = Self.backoff
    }
}
