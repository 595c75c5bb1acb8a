import ArgumentParser
import CoreMetrics
import Foundation
import Logging
import Prometheus
import Raft
import RaftKV
import RaftNIO
import ServiceLifecycle
import WAL

/// `raftkv serve`: one member of a replicated key-value cluster that Redis clients talk to.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Runs one member of a replicated key-value cluster with a Redis-protocol front end.",
        discussion: """
            Logs go to standard error. The node is ready when `INFO` on its client port shows a \
            non-zero leader_id. SIGTERM or SIGINT shut it down gracefully.
            """)

    @Option(help: "This node's id (non-zero).") var id: UInt64
    @Option(help: "Where the node keeps its log and snapshots.") var dataDir: String
    @Option(help: "HOST:PORT to listen on for peers.") var listen: String
    @Option(help: "HOST:PORT to listen on for clients (RESP).") var clientListen: String
    @Option(help: "Every founding member by peer address: 1=HOST:PORT,2=HOST:PORT,... (a joining node gets the same list).")
    var peers: String
    @Flag(help: "Start with empty storage and wait to be added with `raftkv member add`.") var join = false
    @Option(help: "A file holding the secret every member shares.") var clusterSecretFile: String?
    @Option(help: "A file holding the password clients must AUTH with.") var requirepassFile: String?
    @Option(help: "HOST:PORT to serve the node's metrics on, in Prometheus's text format, at /metrics.") var metricsListen: String?
    @Option(help: ArgumentHelp("Fault injection for self-tests: lose the first write to KEY.", visibility: .hidden))
    var plantLostWrite: String?
    @Flag(help: ArgumentHelp("Shut down when the process that started this one exits.", visibility: .hidden))
    var exitWithParent = false

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .info
            return handler
        }
        var logger = Logger(label: "raftkv.serve")
        logger[metadataKey: "node"] = "\(id)"
        do {
            try await serve(logger: logger)
        } catch let error as ServeError {
            printError("raftkv serve: \(error)")
            throw ExitCode(1)
        }
    }

    private func serve(logger: Logger) async throws {
        guard id != 0 else { throw ServeError("--id must be non-zero") }
        let founders = try PeerList(parsing: peers)
        guard join || founders.addresses[id] != nil else {
            throw ServeError("--peers does not list this node (\(id)); list every founding member, or pass --join")
        }
        guard let listenAddress = HostPort.parse(listen) else { throw ServeError("--listen: '\(listen)' is not HOST:PORT") }
        guard let clientAddress = HostPort.parse(clientListen) else {
            throw ServeError("--client-listen: '\(clientListen)' is not HOST:PORT")
        }
        let secret = try clusterSecretFile.map { path throws(ServeError) in try Self.readSecret(path, flag: "--cluster-secret-file") }
        let password = try requirepassFile.map { path throws(ServeError) in try Self.readSecret(path, flag: "--requirepass-file") }
        if let plantLostWrite {
            logger.warning("fault injection: this node loses the first write to a key", metadata: ["key": "\(plantLostWrite)"])
        }
        let metricsAddress = try metricsListen.map { flag throws(ServeError) in
            guard let address = HostPort.parse(flag) else { throw ServeError("--metrics-listen: '\(flag)' is not HOST:PORT") }
            return address
        }
        // Before the node and the transport exist: their metrics bind to the factory in force
        // when they are made.
        let registry = metricsAddress.map { _ in PrometheusCollectorRegistry() }
        if let registry { MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry)) }

        let identity = try DataDirectoryIdentity.establish(directory: dataDir, nodeID: id, clusterID: founders.derivedClusterID)
        if identity.clusterID != founders.derivedClusterID {
            logger.notice("the data directory's cluster id differs from the one --peers founds; using the stored one",
                metadata: ["cluster_id": "\(identity.clusterID)"])
        }

        var transportConfiguration = RaftNIOConfiguration(
            id: id, clusterID: identity.clusterID, clusterSecret: secret,
            listenAddress: PeerAddress(host: listenAddress.host, port: listenAddress.port),
            peers: founders.addresses.filter { $0.key != id })
        transportConfiguration.logger = logger
        let transport = RaftNIOTransport(configuration: transportConfiguration)

        var nodeConfiguration = RaftNodeConfiguration(
            id: id, directory: dataDir, bootstrap: join ? .joinExisting : .newCluster(voters: Set(founders.addresses.keys)),
            randomSeed: UInt64.random(in: 1...UInt64.max))
        nodeConfiguration.logger = logger
        nodeConfiguration.wal.logger = logger
        nodeConfiguration.snapshots.logger = logger
        var machine = plantLostWrite.map(KVStateMachine.init(losingFirstWriteTo:)) ?? KVStateMachine()
        let addressBook = PeerAddressBook(transport: transport, selfID: id)
        machine.onMemberRecordsChanged = { addressBook.update($0) }
        let node = RaftNode(
            configuration: nodeConfiguration, fileSystem: PosixFileSystem(), stateMachine: machine,
            transport: transport, clock: ContinuousClock())
        transport.attach(node)

        let processor = CommandProcessor(
            backend: node,
            identity: CommandProcessor.Identity(
                id: id, clusterID: "\(identity.clusterID)",
                addresses: MemberDirectory.Addresses(peer: listen, client: clientListen)),
            password: password, logger: logger)
        let server = KVServer(processor: processor, host: clientAddress.host, port: clientAddress.port, logger: logger)

        do {
            try await transport.start()
        } catch {
            throw ServeError("--listen \(listen): cannot listen: \(error)")
        }
        do {
            try await server.start()
        } catch {
            await transport.stop()
            throw ServeError("--client-listen \(clientListen): cannot listen: \(error)")
        }
        var metrics: MetricsEndpoint?
        do {
            if let metricsAddress, let registry {
                metrics = try await MetricsEndpoint.start(host: metricsAddress.host, port: metricsAddress.port, registry: registry)
            }
        } catch {
            await server.stop()
            await transport.stop()
            throw ServeError("--metrics-listen \(metricsListen ?? ""): cannot listen: \(error)")
        }
        let publisher = MembershipPublisher(processor: processor)
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [
                    .init(service: node, successTerminationBehavior: .gracefullyShutdownGroup,
                        failureTerminationBehavior: .gracefullyShutdownGroup),
                    .init(service: publisher),
                ] + (exitWithParent ? [.init(service: ParentWatch(), successTerminationBehavior: .gracefullyShutdownGroup)] : []),
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        var failure: (any Error)?
        do {
            try await group.run()
        } catch {
            failure = error
        }
        await metrics?.stop()
        await server.stop()
        await transport.stop()
        if let failure {
            throw ServeError("node \(id) stopped: \(Self.rootCause(failure))")
        }
        logger.info("shut down")
    }

    private static func rootCause(_ error: any Error) -> String {
        if let group = error as? ServiceGroupError { return "\(group)" }
        return "\(error)"
    }

    /// A secret file's contents without a trailing line break.
    private static func readSecret(_ path: String, flag: String) throws(ServeError) -> [UInt8] {
        guard FileManager.default.fileExists(atPath: path) else { throw ServeError("\(flag) \(path): no such file") }
        guard var bytes = FileManager.default.contents(atPath: path).map(Array.init) else {
            throw ServeError("\(flag) \(path): unreadable")
        }
        while let last = bytes.last, last == 0x0A || last == 0x0D { bytes.removeLast() }
        guard !bytes.isEmpty else { throw ServeError("\(flag) \(path): the file is empty") }
        return bytes
    }
}
