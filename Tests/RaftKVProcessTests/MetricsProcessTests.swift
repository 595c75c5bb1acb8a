import Foundation
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `raftkv serve --metrics-listen`: the node's and the transport's figures in Prometheus's text
/// format, as a Prometheus server scrapes them.
@Suite(.timeLimit(.minutes(2))) struct MetricsProcessTests {
    @Test func aNodeServesItsMetricsInPrometheusTextFormat() async throws {
        let cluster = try ServerCluster(ids: [1, 2, 3])
        defer { cluster.remove() }
        let port = try freePort()
        cluster.setExtraArguments(["--metrics-listen", "127.0.0.1:\(port)"], for: 1)
        try cluster.startAll()
        let leader = try #require(await cluster.leader())
        let client = try await cluster.client(leader)
        for index in 0..<20 { #expect(try await client.send(["SET", "k\(index)", "v"]) == .ok) }
        await client.close()

        let (body, response) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/metrics")!)
        let status = (response as? HTTPURLResponse)?.statusCode
        let text = String(decoding: body, as: UTF8.self)
        #expect(status == 200, "\(text)")
        #expect((response as? HTTPURLResponse)?.value(forHTTPHeaderField: "Content-Type")?.hasPrefix("text/plain; version=0.0.4") == true)
        #expect(text.contains("# TYPE raft_persist_latency"), "the node's persistence timer is there: \(text.prefix(2000))")
        #expect(text.contains("node=\"1\""), "with the node as a label: \(text.prefix(2000))")
        // Every sample line is NAME{LABELS} VALUE or NAME VALUE, with a number for the value.
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let value = line.split(separator: " ").last.map(String.init) ?? ""
            #expect(Double(value) != nil || ["+Inf", "-Inf", "NaN"].contains(value), "a sample line: \(line)")
        }

        let (_, missing) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/other")!)
        #expect((missing as? HTTPURLResponse)?.statusCode == 404)
    }
}
