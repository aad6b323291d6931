import InterlinkCore
import InterlinkProxy

/// What the route reconciler applied last: the state, each frontend's plan, and the counters.
/// The API, the metrics and the dashboard read it; it is a value, consistent with itself.
public struct RouteView: Sendable {
    public let state: RoutingState
    let plans: [SocketEndpoint: RoutePlan]
    let stats: [BackendKey: BackendStats]
    let tallies: ConnectionTallies

    init(state: RoutingState, plans: [SocketEndpoint: RoutePlan] = [:], stats: [BackendKey: BackendStats] = [:], tallies: ConnectionTallies = ConnectionTallies()) {
        self.state = state
        self.plans = plans
        self.stats = stats
        self.tallies = tallies
    }

    /// The counters of a backend of a service, nil when it has none.
    public func counters(_ key: BackendKey) -> BackendStats? { stats[key] }

    /// The plan a frontend runs on; planned now, without failback memory, if it has none yet.
    func plan(of service: LocalService, port: LocalService.Port, now: ContinuousClock.Instant) -> RoutePlan {
        plans[port.frontend] ?? RoutePlanner.plan(state.planInput(of: service, port: port, now: now))
    }

    /// Connections opened so far per service and cluster, from their tallies: what the
    /// dashboard samples every second, without visiting any backend.
    public func connectionTotals() -> [String: [String: Int]] {
        tallies.totals(of: state.services.map(\.spec.name))
    }

    /// Remote backends in the applied plans' inputs, over every service and port.
    public var remoteBackendsInRoutes: Int { state.remoteBackendCount }
}
