extension Duration {
    /// Parses a command-line duration: `10s`, `500ms` or `2m`; nil for anything else,
    /// including infinite, non-positive or absurdly long durations (over a million seconds),
    /// which would overflow a `Duration`.
    init?(argument text: String) {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            if let value = Double(text.dropLast(suffix.count)), value > 0, value.isFinite, value * scale <= 1e6 {
                self = .milliseconds(Int64(value * scale * 1000))
                return
            }
        }
        return nil
    }

    /// The duration in seconds.
    var inSeconds: Double { self / .seconds(1) }

    /// The duration in whole nanoseconds; zero for a negative one.
    var inNanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        return UInt64(max(0, seconds * 1_000_000_000 + attoseconds / 1_000_000_000))
    }
}
