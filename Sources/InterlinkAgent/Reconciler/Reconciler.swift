import InterlinkCore
import InterlinkProxy
import Logging

/// The one place that turns state into routes: local services + health → eligible backends →
/// routes published to the data plane.
///
/// Threading: an actor; health events and API reads are serialised here. Publishing a route
/// is a single atomic store per frontend, so a health change reaches new connections at once.
public actor Reconciler {
    let cluster: ClusterName
    let clusterID: ClusterID
    let services: [LocalService]
    private let proxy: ProxyServer
    private let logger: Logger
    private var health: [BackendKey: BackendHealth] = [:]
    private var stats: [BackendKey: BackendStats] = [:]
    private var affinityStores: [SocketEndpoint: ClientAffinityStore] = [:]

    public init(cluster: ClusterName, clusterID: ClusterID, services: [LocalService], proxy: ProxyServer, logger: Logger) {
        self.cluster = cluster
        self.clusterID = clusterID
        self.services = services
        self.proxy = proxy
        self.logger = logger
        for service in services {
            for port in service.ports {
                for backend in port.backends {
                    let key = BackendKey(service: service.spec.name, endpoint: backend.endpoint)
                    health[key] = BackendHealth(rise: service.spec.healthCheck.rise, fall: service.spec.healthCheck.fall)
                    stats[key] = stats[key] ?? BackendStats()
                }
                if case .clientIP(let timeout) = service.spec.sessionAffinity {
                    affinityStores[port.frontend] = ClientAffinityStore(timeout: timeout)
                }
            }
        }
    }

    /// Binds every frontend with its first routes; throws if a frontend cannot be bound.
    public func start() async throws {
        try await proxy.apply(routes())
    }

    /// The backends to check actively, with their check settings.
    public func checkTargets() -> [(key: BackendKey, spec: HealthCheckSpec)] {
        var seen: Set<BackendKey> = []
        var targets: [(key: BackendKey, spec: HealthCheckSpec)] = []
        for service in services where service.spec.healthCheck.kind != .none {
            for port in service.ports {
                for backend in port.backends {
                    let key = BackendKey(service: service.spec.name, endpoint: backend.endpoint)
                    if seen.insert(key).inserted { targets.append((key, service.spec.healthCheck)) }
                }
            }
        }
        return targets
    }

    /// Applies a health event; on a transition, republishes the service's routes.
    public func record(_ event: BackendHealth.Event, for key: BackendKey) {
        guard var state = health[key], let service = services.first(where: { $0.spec.name == key.service }) else { return }
        if case .passiveFailure = event, service.spec.healthCheck.kind == .none {
            return  // nothing would bring it back: with checks off, readiness alone decides
        }
        let transition = state.handle(event)
        health[key] = state
        guard let transition else { return }
        var metadata: Logger.Metadata = ["service": "\(key.service)", "backend": "\(key.endpoint)", "cluster": "\(cluster)"]
        switch transition {
        case .wentDown:
            metadata["reason"] = "\(state.lastFailure ?? "unknown")"
            logger.warning("backend down", metadata: metadata)
        case .wentUp:
            logger.info("backend up", metadata: metadata)
        }
        proxy.publish(routes(of: service))
    }

    /// A passive failure from the data plane (a failed dial).
    public func recordPassiveFailure(service: ServiceName, backend: SocketEndpoint, reason: String) {
        record(.passiveFailure(reason: reason), for: BackendKey(service: service, endpoint: backend))
    }

    func healthState(for key: BackendKey) -> (health: String, detail: String?) {
        guard let state = health[key] else { return ("up", nil) }
        if services.first(where: { $0.spec.name == key.service })?.spec.healthCheck.kind == HealthCheckSpec.Kind.none {
            return ("up", "active checks off: readiness is trusted")
        }
        if !state.isUp { return ("down", state.lastFailure) }
        return ("up", state.hasBeenChecked ? nil : "not checked yet: readiness is trusted until the first check")
    }

    func statsFor(_ key: BackendKey) -> BackendStats? { stats[key] }

    func candidates(of service: LocalService, port: LocalService.Port) -> [BackendCandidate] {
        port.backends.map { backend in
            let key = BackendKey(service: service.spec.name, endpoint: backend.endpoint)
            return BackendCandidate(backend: backend, isLocal: true, isHealthy: health[key]?.isUp ?? true)
        }
    }

    func routes() -> [FrontendRoute] {
        services.flatMap { routes(of: $0) }
    }

    func routes(of service: LocalService) -> [FrontendRoute] {
        service.ports.map { port in
            let selection = selectBackends(candidates(of: service, port: port), isGlobal: service.spec.isGlobal, affinity: service.spec.affinity)
            let backends = selection.eligible.compactMap { backend -> RouteBackend? in
                let key = BackendKey(service: service.spec.name, endpoint: backend.endpoint)
                return try? RouteBackend(endpoint: backend.endpoint, cluster: backend.cluster, stats: stats[key] ?? BackendStats())
            }
            return FrontendRoute(
                service: service.spec.name, frontend: port.frontend, backends: backends,
                algorithm: service.spec.algorithm, affinity: affinityStores[port.frontend])
        }
    }
}
