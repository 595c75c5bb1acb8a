/// FNV-1a, 64-bit: a hash that is the same in every process (Swift's `Hasher` is seeded per
/// process), for digests that runs and replicas compare.
package func fnv1a(_ bytes: [UInt8]) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in bytes {
        hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
    }
    return hash
}
