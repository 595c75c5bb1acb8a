import RaftCore

extension RaftNodeConfiguration {
    /// Refuses a configuration no node can start with, before anything is written: a
    /// founding mistake written to disk would outlive its correction (a node founded without
    /// itself among the voters never leads, and on restart its storage, not the corrected
    /// configuration, decides).
    ///
    /// - Throws: `RaftNodeError.invalidConfiguration` naming the mistake.
    func validate() throws(RaftNodeError) {
        guard id != 0 else { throw .invalidConfiguration("node id 0 is reserved for \"no node\"") }
        if case .newCluster(let voters) = bootstrap {
            guard !voters.isEmpty else { throw .invalidConfiguration("a new cluster needs at least one voter") }
            guard !voters.contains(0) else { throw .invalidConfiguration("voter id 0 is reserved for \"no node\"") }
            guard voters.contains(id) else {
                throw .invalidConfiguration(
                    "node \(id) founds a cluster without itself among the voters \(voters.sorted()); "
                        + "a node that is not a founder joins with .joinExisting")
            }
        }
    }
}
