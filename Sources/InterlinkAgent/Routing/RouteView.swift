import InterlinkCore
import InterlinkProxy

/// What the route reconciler applied last: the state, each frontend's plan, and the counters.
/// The API, the metrics and the dashboard read it; it is a value, consistent with itself.
public struct RouteView: Sendable {
    public let state: RoutingState
    let plans: [Frontend: RoutePlan]
    let counters: BackendCounters?
    /// Remote backends in the routes, per service (counted while planning: a sum over every
    /// backend would cost an API call O(remote backends), 508,000 at full scale).
    let routedRemote: [ServiceName: Int]

    init(
        state: RoutingState, plans: [Frontend: RoutePlan] = [:], counters: BackendCounters? = nil, routedRemote: [ServiceName: Int] = [:]
    ) {
        self.state = state
        self.plans = plans
        self.counters = counters
        self.routedRemote = routedRemote
    }

    /// The counters of a backend of a service, nil when it has none.
    public func counters(_ key: BackendKey) -> BackendStats? { counters?.existing(key) }

    /// The plan a frontend runs on; planned now, without failback memory, if it has none yet.
    func plan(of service: LocalService, port: LocalService.Port, now: ContinuousClock.Instant) -> RoutePlan {
        plans[port.frontend] ?? RoutePlanner.plan(state.planInput(of: service, port: port, now: now))
    }

    /// Connections opened so far per service and cluster, from their tallies: what the
    /// dashboard samples every second, without visiting any backend.
    public func connectionTotals() -> [String: [String: Int]] {
        counters?.totals(of: state.services.map(\.spec.name)) ?? [:]
    }

    /// Remote backends the routes were planned with, over every service and port.
    public var remoteBackendsInRoutes: Int { routedRemote.values.reduce(0, +) }
}
