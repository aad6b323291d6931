import InterlinkCore
import InterlinkMesh

/// Everything routing depends on, as one immutable value with a revision: the local services,
/// the health of their backends, drains, ejected remote backends, what connected clusters
/// export, and which addresses may be dialled. Only `RoutingWriter` makes new ones; the route
/// reconciler, the exporter, the health checker and the API read them.
///
/// Its queries are pure: time comes in as `now`.
public struct RoutingState: Sendable {
    /// Grows by one with every change.
    public internal(set) var revision: UInt64 = 0
    public let cluster: ClusterName
    public let clusterID: ClusterID
    public internal(set) var services: [LocalService]
    var health: [BackendKey: BackendHealth] = [:]
    /// Backends an operator took out of new traffic (`interlink drain backend`).
    var drained: Set<SocketEndpoint> = []
    /// Remote backends whose dial failed, out of rotation until the instant given. Remote
    /// backends have no active checks here (their own cluster checks them), so an ejection
    /// ends by time, as Envoy's outlier detection does.
    var ejectedUntil: [BackendKey: ContinuousClock.Instant] = [:]
    /// What each connected cluster exports.
    var remotes: [ClusterName: RemoteServiceCache] = [:]
    /// Which backend addresses may be dialled; its own listeners are the agent's listeners
    /// (`fixedListeners`) and every frontend.
    private(set) var addressPolicy: BackendAddressPolicy
    private var fixedListeners: [SocketEndpoint: String]
    /// Why routes changed, for `GET /v1/events` and `explain`.
    var changes = ChangeLog()
    /// The revision at which each service's routing inputs last changed.
    var serviceRevisions: [ServiceName: UInt64] = [:]
    /// The revision of the last change that concerns every service (the address policy).
    var everyServiceRevision: UInt64 = 0
    /// The revision of the last change that must reach the data plane at once (local health,
    /// operator changes); remote clusters' updates may be coalesced.
    var urgentRevision: UInt64 = 0
    /// The revision of the last change that matters to a reader; a change that only moved a
    /// health counter (a passed check of a healthy backend) is not published.
    var lastChangeRevision: UInt64 = 0

    public static let remoteEjection = Duration.seconds(10)

    public init(cluster: ClusterName, clusterID: ClusterID, services: [LocalService], addressPolicy: BackendAddressPolicy = BackendAddressPolicy()) {
        self.cluster = cluster
        self.clusterID = clusterID
        self.services = services
        self.fixedListeners = addressPolicy.ownListeners
        self.addressPolicy = Self.policy(addressPolicy, fixed: addressPolicy.ownListeners, services: services)
        adoptHealth()
    }

    /// `base` with its own listeners set to `fixed` plus every frontend of `services`.
    private static func policy(_ base: BackendAddressPolicy, fixed: [SocketEndpoint: String], services: [LocalService]) -> BackendAddressPolicy {
        var policy = base
        policy.ownListeners = fixed
        for service in services {
            for port in service.ports { policy.ownListeners[port.frontend.endpoint] = "the frontend of Service \(service.spec.name)" }
        }
        return policy
    }

    mutating func refreshAddressPolicy() {
        addressPolicy = Self.policy(addressPolicy, fixed: fixedListeners, services: services)
    }

    mutating func addFixedListener(_ endpoint: SocketEndpoint, _ name: String) {
        fixedListeners[endpoint] = name
        refreshAddressPolicy()
    }

    /// Whether a reader that saw `revision` must look again at what this cluster's own
    /// services are: every local change (services, annotations, health, drains, listeners) is
    /// urgent; remote clusters' updates are not, and change nothing local.
    func hasLocalChanges(since revision: UInt64?) -> Bool {
        revision.map { urgentRevision > $0 } ?? true
    }

    /// Gives every local backend without a health state one (up until checked), and drops the
    /// states of backends no service has any more.
    mutating func adoptHealth() {
        var present: Set<BackendKey> = []
        for service in services {
            for port in service.ports {
                for backend in port.backends {
                    let key = BackendKey(service: service.spec.name, endpoint: backend.endpoint)
                    present.insert(key)
                    if health[key] == nil { health[key] = BackendHealth(rise: service.spec.healthCheck.rise, fall: service.spec.healthCheck.fall) }
                }
            }
        }
        for key in health.keys where !present.contains(key) { health[key] = nil }
    }

    // MARK: Queries

    /// The spec of a local service, nil if there is none.
    public func spec(of name: ServiceName) -> ServiceSpec? {
        services.first { $0.spec.name == name }?.spec
    }

    /// Every frontend of the local services, with its service.
    public var frontends: [Frontend: ServiceName] { Self.frontends(of: services) }

    static func frontends(of services: [LocalService]) -> [Frontend: ServiceName] {
        var frontends: [Frontend: ServiceName] = [:]
        for service in services { for port in service.ports { frontends[port.frontend] = service.spec.name } }
        return frontends
    }

    /// How many local services are global.
    public var globalServiceCount: Int { services.count { $0.spec.isGlobal } }

    /// Backends other clusters export for this service (listed even when the service is not
    /// global here, so that the API can say why they are not used; the planner skips them).
    /// An exported service takes a cluster's backends on a port only when that cluster's
    /// MCS-API export of the port agrees with the cluster set's (`ServiceImportView`).
    func remoteBackends(of service: LocalService, port: LocalService.Port) -> [Backend] {
        let view = service.spec.export != nil ? importView(of: service) : nil
        return remotes.values.flatMap { cache -> [Backend] in
            guard let remote = cache.services[service.spec.name], remote.isShared else { return [] }
            if let view, !view.serves(port: port.port.name, from: cache.cluster) { return [] }
            return remote.backends(for: port.port)
        }
    }

    /// This cluster's MCS-API export of `service`, if it has a ServiceExport.
    func clusterSetExport(of service: LocalService) -> ClusterSetExport? {
        guard let export = service.spec.export else { return nil }
        let created = export.creationTimestamp ?? ""
        return ClusterSetExport(exporting: service.spec, cluster: cluster, createdAt: RFC3339Time.milliseconds(created) ?? 0, createdText: created)
    }

    /// The cluster set's view of an exported service: this cluster's export and every
    /// connected cluster's of the same name, resolved (nil when the service is not exported).
    public func importView(of service: LocalService) -> ServiceImportView? {
        guard let local = clusterSetExport(of: service) else { return nil }
        let remoteExports = remotes.values.compactMap { $0.exports[service.spec.name] }.sorted { $0.cluster < $1.cluster }
        return ServiceImportView.resolve([local] + remoteExports)
    }

    /// What this cluster exports through the MCS-API now (Cilium's `MCSAPIServiceSpec`s).
    public func exportedServiceExports() -> [MCSAPIServiceSpec] {
        services.compactMap { service in clusterSetExport(of: service).map { MCSAPIServiceSpec($0, name: service.spec.name) } }
    }

    func isRemoteBackend(_ key: BackendKey, of service: LocalService) -> Bool {
        service.ports.contains { port in remoteBackends(of: service, port: port).contains { $0.endpoint == key.endpoint } }
    }

    /// The services that have `endpoint` as a backend, local or remote.
    func services(serving endpoint: SocketEndpoint) -> [LocalService] {
        services.filter { service in
            service.ports.contains { port in
                port.backends.contains { $0.endpoint == endpoint } || remoteBackends(of: service, port: port).contains { $0.endpoint == endpoint }
            }
        }
    }

    /// Whether `endpoint` is a backend, local or remote, of some service here.
    public func servesBackend(_ endpoint: SocketEndpoint) -> Bool {
        !services(serving: endpoint).isEmpty
    }

    func isEjected(_ key: BackendKey, now: ContinuousClock.Instant) -> Bool {
        ejectedUntil[key].map { $0 > now } ?? false
    }

    /// Every backend of a frontend with what the planner needs to know of it.
    func candidates(of service: LocalService, port: LocalService.Port, now: ContinuousClock.Instant) -> [BackendCandidate] {
        let merge = BackendMerge(local: port.backends, remote: remoteBackends(of: service, port: port))
        return merge.backends.map { entry in
            let key = BackendKey(service: service.spec.name, endpoint: entry.backend.endpoint)
            let healthy = entry.isLocal ? (health[key]?.isUp ?? true) : !isEjected(key, now: now)
            return BackendCandidate(
                backend: entry.backend, isLocal: entry.isLocal, isHealthy: healthy, isDrained: drained.contains(entry.backend.endpoint),
                refusal: addressPolicy.refusal(entry.backend.endpoint, isLocal: entry.isLocal))
        }
    }

    /// What the planner is given for a frontend.
    func planInput(of service: LocalService, port: LocalService.Port, now: ContinuousClock.Instant) -> RoutePlanInput {
        RoutePlanInput(
            localCluster: cluster, isGlobal: service.spec.isGlobal, affinity: service.spec.affinity, policy: service.spec.routing,
            candidates: candidates(of: service, port: port, now: now), now: now)
    }

    /// The backends to check actively, with their check settings (never a refused address).
    public func checkTargets() -> [HealthTarget] {
        var seen: Set<BackendKey> = []
        var targets: [HealthTarget] = []
        for service in services where service.spec.healthCheck.kind != .none {
            let check = service.spec.healthCheck
            // A UDP port is checked only against the TCP port the Service names.
            for port in service.ports where port.port.transport == .tcp || check.port != nil {
                for backend in port.backends where addressPolicy.refusal(backend.endpoint, isLocal: true) == nil {
                    let key = BackendKey(service: service.spec.name, endpoint: backend.endpoint)
                    let probe = check.port.map { SocketEndpoint(ip: backend.endpoint.ip, port: $0) } ?? backend.endpoint
                    if seen.insert(key).inserted { targets.append(HealthTarget(key: key, spec: check, probe: probe)) }
                }
            }
        }
        return targets
    }

    /// What this cluster exports now: its global shared services with their serving, healthy
    /// backends (not drained, not refused).
    public func exportedServices() -> [ClusterService] {
        services.compactMap { service in
            ClusterService.export(service, cluster: cluster, clusterID: clusterID) { endpoint in
                !drained.contains(endpoint) && addressPolicy.refusal(endpoint, isLocal: true) == nil
                    && (health[BackendKey(service: service.spec.name, endpoint: endpoint)]?.isUp ?? true)
            }
        }
    }

    /// A backend's health as the API shows it: `up`/`down` and why.
    func healthState(for key: BackendKey, now: ContinuousClock.Instant) -> (health: String, detail: String?) {
        if let until = ejectedUntil[key], until > now {
            return ("down", "ejected after a failed dial; back in rotation in \(max(0, (until - now).components.seconds)) s")
        }
        guard let state = health[key] else { return ("up", "remote: health as exported by its cluster") }
        if spec(of: key.service)?.healthCheck.kind == HealthCheckSpec.Kind.none {
            return ("up", "active checks off: readiness is trusted")
        }
        if !state.isUp { return ("down", state.lastFailure) }
        return ("up", state.hasBeenChecked ? nil : "not checked yet: readiness is trusted until the first check")
    }

    /// The routing changes after sequence number `since`.
    public func changeEvents(since: Int) -> [ChangeLog.Event] {
        changes.since(since)
    }
}

/// A backend to check actively, with its service's check settings.
public struct HealthTarget: Hashable, Sendable {
    public var key: BackendKey
    public var spec: HealthCheckSpec
    /// Where the check connects: the backend, or its `interlink.io/health-check-port`.
    public var probe: SocketEndpoint
}
