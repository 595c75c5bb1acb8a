/// Identifies a member of the cluster.
///
/// Zero is reserved: it never names a real node, so a message carrying it is
/// malformed and dropped.
public typealias NodeID = UInt64
