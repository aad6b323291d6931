import InterlinkCore
import InterlinkMesh
import InterlinkProxy
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// The composition root: loads the manifests, builds the reconciler, data plane, health
/// checker and API, and runs them in one `ServiceGroup`.
///
/// Shutdown (SIGTERM/SIGINT, or `shutdown()`) runs in reverse order: the data plane stops
/// accepting and drains open connections up to the grace period while the API still answers;
/// then the API, the checks and the passive-health feed stop.
public final class Agent: Sendable {
    public let settings: AgentSettings
    public let reconciler: Reconciler
    public let proxy: ProxyServer
    private let group: MultiThreadedEventLoopGroup
    private let logger: Logger
    private let passiveFailures: AsyncStream<PassiveFailure>
    private let serviceGroup: ServiceGroup
    private let apiPort: AsyncStream<Int>
    private let exportNotifier: AsyncStream<Void>.Continuation?

    struct PassiveFailure: Sendable {
        var service: ServiceName
        var backend: SocketEndpoint
        var reason: String
    }

    /// Loads and validates the manifests; throws `ManifestErrors` before anything starts.
    public init(settings: AgentSettings, logger: Logger, handleSignals: Bool = true) throws {
        let manifests = try ManifestLoader.load(path: settings.manifestsPath)
        let remoteConfigs = try settings.clustermeshConfig.map { try RemoteClusterConfig.load(directory: $0) } ?? []
        if let same = remoteConfigs.first(where: { $0.name == settings.clusterName }) {
            throw ClusterMeshConfigError("\(settings.clustermeshConfig ?? ""): \(same.name) is this cluster's own name: remove that file")
        }
        self.settings = settings
        self.logger = logger
        let group = MultiThreadedEventLoopGroup(numberOfThreads: settings.threads ?? System.coreCount)
        self.group = group
        let (stream, continuation) = AsyncStream.makeStream(of: PassiveFailure.self, bufferingPolicy: .bufferingNewest(4096))
        self.passiveFailures = stream
        let proxy = ProxyServer(group: group, settings: settings.proxy, logger: logger) { service, backend, _, reason in
            continuation.yield(PassiveFailure(service: service, backend: backend, reason: reason))
        }
        self.proxy = proxy
        let reconciler = Reconciler(
            cluster: settings.clusterName, clusterID: settings.clusterID,
            services: manifests.localServices(cluster: settings.clusterName), proxy: proxy, logger: logger)
        self.reconciler = reconciler
        let (portStream, portContinuation) = AsyncStream.makeStream(of: Int.self, bufferingPolicy: .bufferingNewest(1))
        self.apiPort = portStream
        let api = AgentAPI.application(reconciler: reconciler, settings: settings, group: group, logger: logger) { port in
            portContinuation.yield(port)
        }
        var services: [any Service] = [
            PassiveHealthFeed(failures: stream, reconciler: reconciler),
            HealthChecker(reconciler: reconciler, group: group, logger: logger),
        ]
        if !settings.kvstoreEndpoints.isEmpty {
            let (changes, notifier) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
            let exporter = ServiceExporter(
                store: EtcdClient(endpoints: settings.kvstoreEndpoints), cluster: settings.clusterName, clusterID: settings.clusterID,
                leaseTTL: settings.exportLeaseTTL, logger: logger)
            services.append(MeshExport(exporter: exporter, reconciler: reconciler, changes: changes, logger: logger))
            self.exportNotifier = notifier
        } else {
            self.exportNotifier = nil
        }
        if !remoteConfigs.isEmpty {
            services.append(RemoteClusters(
                configs: remoteConfigs, localCluster: settings.clusterName, localID: settings.clusterID,
                cacheTTL: settings.clustermeshCacheTTL, reconciler: reconciler, logger: logger))
        }
        services += [
            api,
            DataPlane(proxy: proxy, grace: settings.drainGrace, logger: logger),
        ]
        self.serviceGroup = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) },
            gracefulShutdownSignals: handleSignals ? [.sigterm, .sigint] : [],
            cancellationSignals: [],
            logger: logger))
    }

    /// Binds every frontend, then runs until shut down. Throws if a frontend or the API cannot bind.
    public func run() async throws {
        if let exportNotifier { await reconciler.setExportNotifier(exportNotifier) }
        do {
            try await reconciler.start()
            do {
                try await serviceGroup.run()
            } catch let error as IOError {
                // The frontends are bound by now: a bind failing here is the API's.
                throw AgentError.apiUnavailable(settings.apiListen, networkErrorText(error))
            }
        } catch {
            await proxy.stopAccepting()
            try? await group.shutdownGracefully()
            throw error
        }
        try? await group.shutdownGracefully()
    }

    /// Starts the graceful shutdown that SIGTERM would start.
    public func shutdown() async {
        await serviceGroup.triggerGracefulShutdown()
    }

    /// The port the API listens on, once it does (useful with port 0).
    public func apiListeningPort() async -> Int? {
        for await port in apiPort { return port }
        return nil
    }
}

/// Feeds failed dials from the data plane into the reconciler as passive health failures.
struct PassiveHealthFeed: Service {
    let failures: AsyncStream<Agent.PassiveFailure>
    let reconciler: Reconciler

    func run() async throws {
        await cancelWhenGracefulShutdown {
            for await failure in failures {
                await reconciler.recordPassiveFailure(service: failure.service, backend: failure.backend, reason: failure.reason)
            }
        }
    }
}

/// The data plane's lifecycle: runs until shutdown, then stops accepting and drains.
struct DataPlane: Service {
    let proxy: ProxyServer
    let grace: Duration
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        await proxy.stopAccepting()
        let open = proxy.openConnections
        logger.info("stopped accepting; draining", metadata: ["open": "\(open)", "grace": "\(grace)"])
        if await proxy.waitForDrain(grace: grace) {
            logger.info("drained")
        } else {
            logger.warning("grace period over; closing remaining connections", metadata: ["open": "\(proxy.openConnections)"])
        }
    }
}

public enum AgentError: Error, CustomStringConvertible {
    case apiUnavailable(SocketEndpoint, String)

    public var description: String {
        switch self {
        case .apiUnavailable(let address, let reason):
            "cannot serve the API on \(address): \(reason); choose another address with --api-listen"
        }
    }
}
