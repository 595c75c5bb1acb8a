/// A tiny, fast, deterministic pseudo-random generator (Steele, Lea and Flood's
/// SplitMix64).
///
/// The core owns no entropy: the caller seeds this generator, so a run is
/// reproducible from its seed. It is not cryptographically secure; it only
/// spreads election timeouts.
public struct SplitMix64: RandomNumberGenerator, Sendable, Hashable {
    private var state: UInt64

    /// Creates a generator whose sequence is fully determined by `seed`.
    public init(seed: UInt64) {
        state = seed
    }

    /// Returns the next 64 pseudo-random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
