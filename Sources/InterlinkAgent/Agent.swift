import Foundation
import InterlinkCore
import InterlinkMesh
import InterlinkProxy
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ServiceLifecycle

/// The composition root: loads the manifests, builds the routing writer, the route
/// reconciler and data plane, the health checker, the mesh and the API, and runs them in one
/// `ServiceGroup`.
///
/// State flows one way: sources (manifests and the API, health checks, failed dials, remote
/// clusters) change the `RoutingWriter`'s state; the `RouteReconciler` plans and applies it
/// to the data plane; the exporter, health checker, API and dashboard read the states.
///
/// Shutdown (SIGTERM/SIGINT, or `shutdown()`) runs in reverse order: the data plane stops
/// accepting and drains open connections up to the grace period while the API still answers;
/// then the API, the checks and the passive-health feed stop.
public final class Agent: Sendable {
    public let settings: AgentSettings
    public let writer: RoutingWriter
    public let routes: RouteReconciler
    public let proxy: any ProxyDataPlane
    private let group: MultiThreadedEventLoopGroup
    private let logger: Logger
    private let passiveFailures: AsyncStream<PassiveFailure>
    private let serviceGroup: ServiceGroup
    private let apiPort: AsyncStream<Int>
    /// The etcd client of `--kvstore etcd`, shut down when the agent stops (with TLS it owns an
    /// HTTP client that must be).
    private let ownEtcd: EtcdClient?

    struct PassiveFailure: Sendable {
        var service: ServiceName
        var backend: SocketEndpoint
        var reason: String
    }

    /// Loads and validates the manifests; throws `ManifestErrors` before anything starts.
    public init(settings requested: AgentSettings, logger: Logger, handleSignals: Bool = true, clock: any Clock<Duration> = ContinuousClock()) throws {
        try requested.validate()
        let budget = FileDescriptorBudget(
            limit: DescriptorLimit.raise(), apiMaximum: requested.apiLimits.maxConnections, meshMaximum: requested.meshLimits.maxConnections)
        let settings = requested.applying(budget)
        logger.info("descriptor budget", metadata: [
            "limit": "\(budget.limit)", "proxy-connections": "\(settings.proxy.maxConnections)",
            "api-connections": "\(settings.apiLimits.maxConnections)", "mesh-connections": "\(settings.meshLimits.maxConnections)",
        ])
        let manifestsStamp = ManifestWatch.stamp(settings.manifestsPath)
        let manifestFiles = try ManifestLoader.readFiles(at: settings.manifestsPath)
        let manifests = try ManifestLoader.load(files: manifestFiles, options: settings.manifestOptions)
            .stampingExports(previous: ManifestSet(), now: ManifestLoader.nowText())
        for line in manifests.readingReport() { logger.notice("manifests: \(line)") }
        if let directory = settings.clustermeshConfig, !FileManager.default.fileExists(atPath: directory) {
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        self.settings = settings
        self.logger = logger
        let group = MultiThreadedEventLoopGroup(numberOfThreads: settings.threads ?? System.coreCount)
        self.group = group
        let (stream, continuation) = AsyncStream.makeStream(of: PassiveFailure.self, bufferingPolicy: .bufferingNewest(4096))
        self.passiveFailures = stream
        let reportFailure: PassiveFailureReporter = { service, backend, _, reason in
            continuation.yield(PassiveFailure(service: service, backend: backend, reason: reason))
        }
        let proxy: any ProxyDataPlane
        switch settings.dataPlane {
        case .nio:
            proxy = ProxyServer(group: group, settings: settings.proxy, logger: logger, reportFailure: reportFailure)
        case .epoll:
            #if os(Linux)
            do {
                proxy = try EpollProxy(threads: settings.threads ?? System.coreCount, settings: settings.proxy, logger: logger, reportFailure: reportFailure)
            } catch {
                try? group.syncShutdownGracefully()
                throw error
            }
            #else
            proxy = ProxyServer(group: group, settings: settings.proxy, logger: logger, reportFailure: reportFailure)
            #endif
        }
        self.proxy = proxy
        let metrics = AgentMetrics()
        var addressPolicy = BackendAddressPolicy(
            ownListeners: [settings.apiListen: "the API"], allowedRemote: settings.backendAllowedCIDRs,
            deniedRemote: settings.backendDeniedCIDRs, hostAddresses: Self.hostAddresses())
        if case .embedded(let embedded) = settings.kvstore { addressPolicy.ownListeners[embedded.listen] = "the mesh port" }
        let writer = RoutingWriter(
            RoutingState(
                cluster: settings.clusterName, clusterID: settings.clusterID, services: manifests.localServices(cluster: settings.clusterName),
                addressPolicy: addressPolicy),
            clock: clock, logger: logger)
        self.writer = writer
        let routes = RouteReconciler(writer: writer, target: proxy, clock: clock, logger: logger, observers: metrics.observers)
        self.routes = routes
        let (portStream, portContinuation) = AsyncStream.makeStream(of: Int.self, bufferingPolicy: .bufferingNewest(1))
        self.apiPort = portStream
        let roster = MeshRoster()
        let boundMeshPort = NIOLockedValueBox<Int?>(nil)
        let storeHealth = NIOLockedValueBox(StoreHealth())
        let apiToken = try settings.apiTokenFile.map(AgentAPI.readToken)
        // Shutdown runs in reverse: the data plane drains first, the route reconciler stops last.
        var services: [any Service] = [
            routes,
            PassiveHealthFeed(failures: stream, writer: writer),
            HealthChecker(writer: writer, group: group, clock: clock, logger: logger),
        ]
        let ownStore: (any KVStore)?
        var ownEtcd: EtcdClient?
        switch settings.kvstore {
        case .none:
            ownStore = nil
        case .etcd(let endpoints, let tls):
            do {
                ownEtcd = try EtcdClient(endpoints: endpoints, tls: tls)
            } catch {
                throw AgentError.storeUnavailable(endpoints.joined(separator: ","), "the TLS files cannot be used: \(error)")
            }
            ownStore = ownEtcd
        case .embedded(let embedded):
            let store: EmbeddedStore
            do {
                store = try EmbeddedStore(directory: embedded.dataDirectory)
            } catch {
                throw AgentError.storeUnavailable(embedded.dataDirectory, "\(error)")
            }
            ownStore = store
            services.append(MeshListener(
                address: embedded.listen,
                store: EmbeddedStoreService(
                    store: store, identity: StoreIdentity(cluster: settings.clusterName.description, clientURLs: settings.meshAdvertise ?? [embedded.url(port: Int(embedded.listen.port))]),
                    access: embedded.access(cluster: settings.clusterName.description),
                    host: embedded.listen.ip.description, port: Int(embedded.listen.port), tls: embedded.tls,
                    gateway: embedded.gatewayListen.map { ($0.ip.description, Int($0.port)) },
                    limits: settings.meshLimits, group: group, logger: logger
                ) { port in
                    writer.addOwnListener(SocketEndpoint(ip: embedded.listen.ip, port: UInt16(clamping: port)), "the mesh port")
                    boundMeshPort.withLockedValue { $0 = port }
                    logger.info("embedded store serving", metadata: ["mesh-listen": "\(embedded.listen.ip):\(port)", "data-dir": "\(embedded.dataDirectory)"])
                }))
        }
        self.ownEtcd = ownEtcd
        let live = LiveChanges(
            writer: writer, routes: routes, store: ownStore, cluster: settings.clusterName, manifests: manifests, options: settings.manifestOptions,
            logger: logger)
        services.append(LiveRestore(live: live))
        if settings.manifestsPath != ManifestLoader.standardInput {
            services.append(ManifestWatch(path: settings.manifestsPath, live: live, interval: settings.manifestPollInterval, initialStamp: manifestsStamp, initialFiles: manifestFiles))
        }
        let traffic = TrafficHistory(routes: routes)
        services.append(traffic)
        let api = AgentAPI.application(
            context: AgentAPI.Context(writer: writer, routes: routes, settings: settings, roster: roster, meshPort: boundMeshPort, token: apiToken, live: live, metrics: metrics,
                traffic: traffic, storeHealth: storeHealth),
            group: group, logger: logger
        ) { port in
            writer.addOwnListener(SocketEndpoint(ip: settings.apiListen.ip, port: UInt16(clamping: port)), "the API")
            portContinuation.yield(port)
        }
        if let ownStore {
            let exporter = ServiceExporter(
                store: ownStore, cluster: settings.clusterName, clusterID: settings.clusterID,
                maxConnectedClusters: settings.maxConnectedClusters, leaseTTL: settings.exportLeaseTTL, logger: logger)
            services.append(MeshExport(
                exporter: exporter, writer: writer, logger: logger, health: storeHealth,
                heartbeatInterval: settings.heartbeatInterval, clock: Timeline(clock)))
        }
        if let directory = settings.clustermeshConfig {
            services.append(RemoteClusters(
                directory: directory, localCluster: settings.clusterName, localID: settings.clusterID,
                maxConnectedClusters: settings.maxConnectedClusters,
                cacheTTL: settings.clustermeshCacheTTL, writer: writer, roster: roster, logger: logger))
        }
        services += [
            api,
            MemoryTrim(proxy: proxy),
            DataPlane(proxy: proxy, grace: settings.drainGrace, logger: logger),
        ]
        self.serviceGroup = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) },
            gracefulShutdownSignals: handleSignals ? [.sigterm, .sigint] : [],
            cancellationSignals: [],
            logger: logger))
    }

    /// This host's interface addresses: a listener on 0.0.0.0 is reached through each of them.
    static func hostAddresses() -> Set<IPAddress> {
        let devices = (try? System.enumerateDevices()) ?? []
        return Set(devices.compactMap { $0.address?.ipAddress.flatMap(IPAddress.init) })
    }

    /// Binds every frontend, then runs until shut down. Throws if a frontend or the API cannot bind.
    public func run() async throws {
        do {
            try await routes.start()
            do {
                try await serviceGroup.run()
            } catch let error as MeshListener.BindError {
                throw AgentError.meshUnavailable(error.address, error.reason)
            } catch let error as IOError {
                // The frontends are bound by now: a bind failing here is the API's.
                throw AgentError.apiUnavailable(settings.apiListen, networkErrorText(error))
            }
        } catch {
            await proxy.stopAccepting()
            await proxy.shutdown()
            await ownEtcd?.shutdown()
            try? await group.shutdownGracefully()
            throw error
        }
        await proxy.shutdown()
        await ownEtcd?.shutdown()
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

public enum AgentError: Error, CustomStringConvertible {
    case apiUnavailable(SocketEndpoint, String)
    case meshUnavailable(SocketEndpoint, String)
    case storeUnavailable(String, String)

    public var description: String {
        switch self {
        case .meshUnavailable(let address, let reason):
            "cannot serve the embedded store on \(address): \(reason); choose another address with --mesh-listen"
        case .storeUnavailable(let location, let reason) where location.hasPrefix("http"):
            "cannot use the etcd at \(location): \(reason); check --kvstore-trusted-ca-file, --kvstore-cert-file and --kvstore-key-file"
        case .storeUnavailable(let directory, let reason):
            "cannot open the embedded store in \(directory): \(reason); choose another directory with --data-dir"
        case .apiUnavailable(let address, let reason):
            "cannot serve the API on \(address): \(reason); choose another address with --api-listen"
        }
    }
}

/// Serves the embedded store; a bind failure is reported as the mesh address's, not the API's.
struct MeshListener: Service {
    struct BindError: Error {
        var address: SocketEndpoint
        var reason: String
    }

    let address: SocketEndpoint
    let store: EmbeddedStoreService

    func run() async throws {
        do {
            try await store.run()
        } catch let error as IOError {
            throw BindError(address: address, reason: networkErrorText(error))
        } catch {
            throw BindError(address: address, reason: "\(error)")
        }
    }
}
