/// Bounds on what a RESP decoder buffers for one value, checked before it buffers it.
public struct RESPLimits: Sendable, Hashable {
    /// The longest bulk string accepted.
    public var maxBulkLength: Int
    /// The most elements an array may announce.
    public var maxArrayLength: Int
    /// The longest line (an inline command, a header, a simple string) accepted.
    public var maxLineLength: Int
    /// How deeply arrays may nest (replies only: a request is one flat array).
    public var maxDepth: Int

    /// Creates limits.
    public init(maxBulkLength: Int = 2 << 20, maxArrayLength: Int = 1 << 20, maxLineLength: Int = 64 << 10, maxDepth: Int = 32) {
        self.maxBulkLength = maxBulkLength
        self.maxArrayLength = maxArrayLength
        self.maxLineLength = maxLineLength
        self.maxDepth = maxDepth
    }
}
