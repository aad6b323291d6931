import InterlinkCore
import InterlinkMesh
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
    var services: [LocalService]
    /// Backends an operator took out of new traffic (`interlink drain backend`).
    var drained: Set<SocketEndpoint> = []
    let proxy: ProxyServer
    let logger: Logger
    var health: [BackendKey: BackendHealth] = [:]
    var stats: [BackendKey: BackendStats] = [:]
    private var tallies = ConnectionTallies()
    private var affinityStores: [SocketEndpoint: ClientAffinityStore] = [:]
    /// What each connected cluster exports.
    var remotes: [ClusterName: RemoteServiceCache] = [:]
    /// Remote backends whose dial failed, out of rotation until the instant given. Remote
    /// backends have no active checks here (their own cluster checks them), so an ejection
    /// ends by time, as Envoy's outlier detection does.
    private var ejectedUntil: [BackendKey: ContinuousClock.Instant] = [:]
    public static let remoteEjection = Duration.seconds(10)
    /// Told when what this cluster exports may have changed (a local health transition).
    var exportNotifier: AsyncStream<Void>.Continuation?
    /// Why routes changed, for `GET /v1/events`.
    var changes = ChangeLog()
    /// Remote changes not yet published: an isolated change is published at once; within
    /// `remoteCoalescing` of the last publication, changes are batched until the window ends.
    var pendingRemote: [ServiceName: [(kind: String, cluster: ClusterName, detail: String, arrived: ContinuousClock.Instant)]] = [:]
    var flushScheduled = false
    var lastRemoteFlush = ContinuousClock.now - .seconds(1)
    var lastRemoteFlushCostPerService = Duration.zero
    var lastRemoteArrival = ContinuousClock.now
    /// Which backend addresses may be dialled; its frontends are kept equal to the services'.
    private(set) var addressPolicy: BackendAddressPolicy
    /// The agent's listeners other than frontends (API, mesh port).
    private var fixedListeners: [SocketEndpoint: String]
    /// Remote backends in the routes last built, per service (shown in `/v1/clusters`).
    var routedRemoteBackends: [ServiceName: Int] = [:]
    /// The route planner's memory: last plans, tier availability and failback stamps.
    var planning = PlanMemory()

    /// Remote backends in the published routes, over every service and port.
    public func remoteBackendsInRoutes() -> Int {
        routedRemoteBackends.values.reduce(0, +)
    }
    public static let remoteCoalescing = Duration.milliseconds(50)
    /// A burst of remote changes is over when none has come for this long.
    public static let remoteQuiet = Duration.milliseconds(100)

    /// Hooks for metrics: a connect-latency recorder per service and cluster, and the delay
    /// between a remote update's arrival and its publication.
    public struct Observers: Sendable {
        public var connectLatency: @Sendable (ServiceName, ClusterName) -> (@Sendable (Duration) -> Void)? = { _, _ in nil }
        public var remoteApplied: @Sendable (Duration) -> Void = { _ in }
        public init() {}
    }
    let observers: Observers

    public init(
        cluster: ClusterName, clusterID: ClusterID, services: [LocalService], proxy: ProxyServer, logger: Logger, observers: Observers = Observers(),
        addressPolicy: BackendAddressPolicy = BackendAddressPolicy()
    ) {
        self.observers = observers
        self.fixedListeners = addressPolicy.ownListeners
        self.addressPolicy = Self.policy(addressPolicy, fixed: addressPolicy.ownListeners, services: services)
        self.cluster = cluster
        self.clusterID = clusterID
        self.services = services
        self.proxy = proxy
        self.logger = logger
        var health: [BackendKey: BackendHealth] = [:]
        var stats: [BackendKey: BackendStats] = [:]
        var tallies = ConnectionTallies()
        var affinityStores: [SocketEndpoint: ClientAffinityStore] = [:]
        Self.adoptState(
            for: services, cluster: cluster, observers: observers, health: &health, stats: &stats, tallies: &tallies, affinityStores: &affinityStores)
        self.health = health
        self.stats = stats
        self.tallies = tallies
        self.affinityStores = affinityStores
    }

    /// `base` with its own listeners set to `fixed` plus every frontend of `services`.
    private static func policy(_ base: BackendAddressPolicy, fixed: [SocketEndpoint: String], services: [LocalService]) -> BackendAddressPolicy {
        var policy = base
        policy.ownListeners = fixed
        for service in services {
            for port in service.ports { policy.ownListeners[port.frontend] = "the frontend of Service \(service.spec.name)" }
        }
        return policy
    }

    /// Adds a listener of the agent that backends must never be (the API or mesh port, once
    /// bound); republishes every route.
    public func addOwnListener(_ endpoint: SocketEndpoint, _ name: String) {
        fixedListeners[endpoint] = name
        addressPolicy = Self.policy(addressPolicy, fixed: fixedListeners, services: services)
        proxy.publish(routes())
        exportNotifier?.yield()
    }

    private func adoptState(for services: [LocalService]) {
        Self.adoptState(
            for: services, cluster: cluster, observers: observers, health: &health, stats: &stats, tallies: &tallies, affinityStores: &affinityStores)
    }

    /// Creates the health, statistics and session-affinity state of services' backends and
    /// frontends that have none yet. A frontend's ClientIP table goes with its service's
    /// `sessionAffinity`: dropped when it is no longer ClientIP (or the frontend is gone), made
    /// anew when the timeout changes.
    private static func adoptState(
        for services: [LocalService], cluster: ClusterName, observers: Observers, health: inout [BackendKey: BackendHealth],
        stats: inout [BackendKey: BackendStats], tallies: inout ConnectionTallies, affinityStores: inout [SocketEndpoint: ClientAffinityStore]
    ) {
        var frontends: Set<SocketEndpoint> = []
        for service in services {
            for port in service.ports {
                frontends.insert(port.frontend)
                for backend in port.backends {
                    let key = BackendKey(service: service.spec.name, endpoint: backend.endpoint)
                    if health[key] == nil { health[key] = BackendHealth(rise: service.spec.healthCheck.rise, fall: service.spec.healthCheck.fall) }
                    if stats[key] == nil {
                        stats[key] = BackendStats(tally: tallies.tally(service.spec.name, cluster, observers: observers))
                    }
                }
                if case .clientIP(let timeout) = service.spec.sessionAffinity {
                    if affinityStores[port.frontend]?.timeout != timeout { affinityStores[port.frontend] = ClientAffinityStore(timeout: timeout) }
                } else {
                    affinityStores[port.frontend] = nil
                }
            }
        }
        for frontend in affinityStores.keys where !frontends.contains(frontend) { affinityStores[frontend] = nil }
    }

    /// Replaces the local services (`interlink apply` / `delete`): binds new frontends, closes
    /// removed ones (their open connections go on), republishes everything and re-exports.
    /// If a new frontend cannot be bound, the previous services are restored and the error
    /// is thrown.
    public func replaceServices(_ next: [LocalService], reason: String) async throws {
        let previous = services
        services = next
        addressPolicy = Self.policy(addressPolicy, fixed: fixedListeners, services: next)
        adoptState(for: next)
        do {
            try await proxy.apply(routes())
        } catch {
            services = previous
            addressPolicy = Self.policy(addressPolicy, fixed: fixedListeners, services: previous)
            adoptState(for: previous)
            try? await proxy.apply(routes())
            throw error
        }
        let present = Set(next.flatMap { service in service.ports.flatMap { $0.backends.map { BackendKey(service: service.spec.name, endpoint: $0.endpoint) } } })
        for key in health.keys where !present.contains(key) { health[key] = nil }
        pruneStats()
        changes.record("apply", detail: reason)
        logger.info("services changed", metadata: ["reason": "\(reason)", "services": "\(next.count)"])
        exportNotifier?.yield()
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
                for backend in port.backends where addressPolicy.refusal(backend.endpoint, isLocal: true) == nil {
                    let key = BackendKey(service: service.spec.name, endpoint: backend.endpoint)
                    if seen.insert(key).inserted { targets.append((key, service.spec.healthCheck)) }
                }
            }
        }
        return targets
    }

    /// Applies a health event; on a transition, republishes the service's routes.
    public func record(_ event: BackendHealth.Event, for key: BackendKey) {
        guard let service = services.first(where: { $0.spec.name == key.service }) else { return }
        guard var state = health[key] else {
            if case .passiveFailure(let reason) = event, isRemoteBackend(key, of: service) {
                ejectedUntil[key] = ContinuousClock.now + Self.remoteEjection
                changes.record("ejection", service: "\(key.service)", backend: "\(key.endpoint)", detail: "\(reason); out of rotation for \(Self.remoteEjection)")
                logger.warning("remote backend ejected", metadata: [
                    "service": "\(key.service)", "backend": "\(key.endpoint)", "reason": "\(reason)", "for": "\(Self.remoteEjection)",
                ])
                proxy.publish(routes(of: service))
            }
            return
        }
        if case .passiveFailure = event, service.spec.healthCheck.kind == .none {
            return  // nothing would bring it back: with checks off, readiness alone decides
        }
        let transition = state.handle(event)
        health[key] = state
        guard let transition else { return }
        exportNotifier?.yield()
        var metadata: Logger.Metadata = ["service": "\(key.service)", "backend": "\(key.endpoint)", "cluster": "\(cluster)"]
        switch transition {
        case .wentDown:
            metadata["reason"] = "\(state.lastFailure ?? "unknown")"
            logger.warning("backend down", metadata: metadata)
            changes.record("health", service: "\(key.service)", cluster: "\(cluster)", backend: "\(key.endpoint)", detail: "down: \(state.lastFailure ?? "unknown")")
        case .wentUp:
            logger.info("backend up", metadata: metadata)
            changes.record("health", service: "\(key.service)", cluster: "\(cluster)", backend: "\(key.endpoint)", detail: "up")
        }
        proxy.publish(routes(of: service))
    }

    /// A passive failure from the data plane (a failed dial).
    public func recordPassiveFailure(service: ServiceName, backend: SocketEndpoint, reason: String) {
        record(.passiveFailure(reason: reason), for: BackendKey(service: service, endpoint: backend))
    }

    public func setExportNotifier(_ continuation: AsyncStream<Void>.Continuation) {
        exportNotifier = continuation
    }

    /// The routing changes after sequence number `since`.
    public func changeEvents(since: Int) -> [ChangeLog.Event] {
        changes.since(since)
    }

    /// How many local services are global.
    public func globalServiceCount() -> Int {
        services.filter { $0.spec.isGlobal }.count
    }

    /// What this cluster exports now: its global shared services with their serving, healthy backends.
    public func exportedServices() -> [ClusterService] {
        services.compactMap { service in
            ClusterService.export(service, cluster: cluster, clusterID: clusterID) { endpoint in
                !drained.contains(endpoint) && addressPolicy.refusal(endpoint, isLocal: true) == nil && (health[BackendKey(service: service.spec.name, endpoint: endpoint)]?.isUp ?? true)
            }
        }
    }

    /// Ends ejections whose time is up; call every second or so.
    public func expireEjections(now: ContinuousClock.Instant = .now) {
        let expired = ejectedUntil.filter { $0.value <= now }.map(\.key)
        guard !expired.isEmpty else { return }
        for key in expired { ejectedUntil[key] = nil }
        let names = Set(expired.map(\.service))
        for service in services where names.contains(service.spec.name) { proxy.publish(routes(of: service)) }
    }

    /// Ends ejections whose time is up and plans again what moves with time (failback delay
    /// and ramp); call every second or so.
    public func tick(now: ContinuousClock.Instant = .now) {
        expireEjections(now: now)
        replanTimed(now: now)
    }

    /// Backends other clusters export for this service (listed even when the service is not
    /// global here, so that the API can say why they are not used; selection skips them).
    func remoteBackends(of service: LocalService, port: LocalService.Port) -> [Backend] {
        remotes.values.flatMap { cache -> [Backend] in
            guard let remote = cache.services[service.spec.name], remote.isShared else { return [] }
            return remote.backends[port.port.name] ?? []
        }
    }

    func isRemoteBackend(_ key: BackendKey, of service: LocalService) -> Bool {
        service.ports.contains { port in remoteBackends(of: service, port: port).contains { $0.endpoint == key.endpoint } }
    }

    func healthState(for key: BackendKey) -> (health: String, detail: String?) {
        if let until = ejectedUntil[key] {
            return ("down", "ejected after a failed dial; back in rotation in \(max(0, (until - .now).components.seconds)) s")
        }
        guard let state = health[key] else { return ("up", "remote: health as exported by its cluster") }
        if services.first(where: { $0.spec.name == key.service })?.spec.healthCheck.kind == HealthCheckSpec.Kind.none {
            return ("up", "active checks off: readiness is trusted")
        }
        if !state.isUp { return ("down", state.lastFailure) }
        return ("up", state.hasBeenChecked ? nil : "not checked yet: readiness is trusted until the first check")
    }

    /// Connections opened so far per service and cluster, from their tallies: what the
    /// dashboard samples every second, without visiting any backend.
    public func connectionTotals() -> [String: [String: Int]] {
        tallies.totals(of: services.map(\.spec.name))
    }

    func isEjected(_ key: BackendKey) -> Bool { ejectedUntil[key] != nil }

    func affinityStore(for frontend: SocketEndpoint) -> ClientAffinityStore? { affinityStores[frontend] }

    /// The counters of a backend of a service, made on first use.
    func counters(for key: BackendKey, cluster backendCluster: ClusterName) -> BackendStats {
        if let counters = stats[key] { return counters }
        let counters = BackendStats(tally: tallies.tally(key.service, backendCluster, observers: observers))
        stats[key] = counters
        return counters
    }
}
