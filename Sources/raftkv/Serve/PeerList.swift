import RaftCore
import RaftKV
import RaftNIO

/// The `--peers 1=HOST:PORT,2=HOST:PORT` flag: every founding member by peer address.
struct PeerList {
    let addresses: [NodeID: PeerAddress]

    init(parsing text: String) throws(ServeError) {
        var addresses: [NodeID: PeerAddress] = [:]
        for item in text.split(separator: ",") {
            let parts = item.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let id = UInt64(parts[0]), id != 0, let address = HostPort.parse(String(parts[1])),
                address.port != 0
            else { throw ServeError("--peers: '\(item)' is not ID=HOST:PORT with a non-zero id and port") }
            guard addresses.updateValue(PeerAddress(host: address.host, port: address.port), forKey: id) == nil else {
                throw ServeError("--peers: node \(id) is listed twice")
            }
        }
        guard !addresses.isEmpty else { throw ServeError("--peers: no members listed") }
        self.addresses = addresses
    }

    /// The list in one canonical spelling (sorted by id), which every founding member shares.
    var canonical: String {
        addresses.keys.sorted().map { "\($0)=\(addresses[$0]!)" }.joined(separator: ",")
    }

    /// The cluster id every founding member derives from the same list: two FNV-1a hashes of
    /// its canonical spelling. Not a secret (the cluster secret is); it keeps two clusters
    /// founded from different lists apart.
    var derivedClusterID: ClusterID {
        let bytes = Array(canonical.utf8)
        let first = fnv1a(Array("raftkv-cluster-a:".utf8) + bytes)
        let second = fnv1a(Array("raftkv-cluster-b:".utf8) + bytes)
        let all = (0..<8).map { UInt8(truncatingIfNeeded: first >> (56 - 8 * UInt64($0))) }
            + (0..<8).map { UInt8(truncatingIfNeeded: second >> (56 - 8 * UInt64($0))) }
        return ClusterID(bytes: all)!
    }
}
