import Foundation
import RaftNIO

/// The file `raftkv-identity` in a data directory: which node and cluster its log belongs to,
/// written once when the directory is first used and checked on every start after.
struct DataDirectoryIdentity: Equatable {
    var nodeID: UInt64
    var clusterID: ClusterID

    static let fileName = "raftkv-identity"

    /// Reads the directory's identity, writes it if the directory is new, and refuses a
    /// directory of another node, one with a log but no identity, or an unreadable one.
    static func establish(directory: String, nodeID: UInt64, clusterID: ClusterID) throws(ServeError) -> DataDirectoryIdentity {
        let manager = FileManager.default
        let path = directory + "/" + fileName
        var isDirectory: ObjCBool = false
        if manager.fileExists(atPath: directory, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw ServeError("--data-dir \(directory): not a directory") }
        } else {
            do {
                try manager.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw ServeError("--data-dir \(directory): cannot create it: \(error.localizedDescription)")
            }
        }
        if manager.fileExists(atPath: path) {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ServeError("\(path): unreadable")
            }
            var fields: [String: String] = [:]
            for line in text.split(separator: "\n") {
                let parts = line.split(separator: "=", maxSplits: 1)
                if parts.count == 2 { fields[String(parts[0])] = String(parts[1]) }
            }
            guard let storedNode = fields["node_id"].flatMap(UInt64.init), let storedCluster = fields["cluster_id"].flatMap(ClusterID.init(hex:))
            else { throw ServeError("\(path): not a raftkv identity file") }
            guard storedNode == nodeID else {
                throw ServeError("--data-dir \(directory) belongs to node \(storedNode), not node \(nodeID); nothing was changed")
            }
            return DataDirectoryIdentity(nodeID: storedNode, clusterID: storedCluster)
        }
        let contents = (try? manager.contentsOfDirectory(atPath: directory)) ?? []
        guard contents.isEmpty else {
            throw ServeError("--data-dir \(directory) is not empty but has no \(fileName): it belongs to something else; nothing was changed")
        }
        let identity = DataDirectoryIdentity(nodeID: nodeID, clusterID: clusterID)
        let text = "node_id=\(nodeID)\ncluster_id=\(clusterID)\n"
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw ServeError("\(path): cannot write it: \(error.localizedDescription)")
        }
        return identity
    }
}
