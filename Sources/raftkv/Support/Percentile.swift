/// Percentiles by the nearest-rank method.
enum Percentile {
    /// The `fraction` percentile of unsorted `samples`.
    static func of(_ samples: [UInt64], _ fraction: Double) -> UInt64? {
        of(sorted: samples.sorted(), fraction)
    }

    /// The `fraction` percentile of samples already sorted, for reading many percentiles of
    /// one large set.
    static func of(sorted: [UInt64], _ fraction: Double) -> UInt64? {
        guard !sorted.isEmpty else { return nil }
        let rank = Int((fraction * Double(sorted.count)).rounded(.up))
        return sorted[min(sorted.count - 1, max(0, rank - 1))]
    }
}
