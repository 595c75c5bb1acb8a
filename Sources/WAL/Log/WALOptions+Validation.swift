extension WALOptions {
    /// The largest payload the record format can hold: a frame stores its payload's length in
    /// 32 bits. `maxPayloadSize` may not exceed it.
    public static var largestPayloadSize: Int { RecordFrame.maxPayloadSize }

    /// Refuses limits no log can work with, before anything is written. Every entry point
    /// that takes options (opening, verifying, listing a log) checks them here, once.
    ///
    /// - Throws: `WALError.invalidOptions` naming the first impossible setting.
    func validate() throws(WALError) {
        guard segmentSize > 0 else { throw .invalidOptions("segmentSize must be positive (it is \(segmentSize))") }
        guard (0...Self.largestPayloadSize).contains(maxPayloadSize) else {
            throw .invalidOptions(
                "maxPayloadSize must be between 0 and \(Self.largestPayloadSize), the largest payload a record frame holds (it is \(maxPayloadSize))")
        }
        guard maxBatchBytes > 0 else { throw .invalidOptions("maxBatchBytes must be positive (it is \(maxBatchBytes))") }
        guard maxBytesInFlight > 0 else {
            throw .invalidOptions("maxBytesInFlight must be positive (it is \(maxBytesInFlight))")
        }
        guard indexInterval > 0 else { throw .invalidOptions("indexInterval must be positive (it is \(indexInterval))") }
        guard readBufferSize > 0 else { throw .invalidOptions("readBufferSize must be positive (it is \(readBufferSize))") }
    }
}
