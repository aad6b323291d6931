import InterlinkCore
import InterlinkProxy

/// From plans to routes: the backends with a share, weighted, and as the fallback for retries
/// the backends the planner would choose if those were down; each backend with its counters.
extension RouteReconciler {
    func routes(of service: LocalService, in state: RoutingState, now: ContinuousClock.Instant) -> [FrontendRoute] {
        routedRemote[service.spec.name] = 0
        return service.ports.map { port in
            let input = state.planInput(of: service, port: port, now: now)
            routedRemote[service.spec.name, default: 0] += input.candidates.count { !$0.isLocal }
            let plan = planning.plan(frontend: port.frontend, input)
            let taking = Set(plan.weighted.map(\.backend.endpoint))
            var degraded = input
            degraded.candidates = input.candidates.map { candidate in
                var candidate = candidate
                if taking.contains(candidate.backend.endpoint) { candidate.isHealthy = false }
                return candidate
            }
            degraded.policy.panic = false
            degraded.policy.failbackDelay = .zero
            degraded.policy.failbackRamp = .zero
            let fallback = RoutePlanner.plan(degraded).weighted.map(\.backend)
            return FrontendRoute(
                service: service.spec.name, frontend: port.frontend, backends: routeBackends(plan.weighted.map(\.backend), of: service, in: state),
                fallback: routeBackends(fallback, of: service, in: state), algorithm: service.spec.algorithm,
                affinity: affinityStore(for: port.frontend, service.spec.sessionAffinity),
                weights: Dictionary(plan.weighted.map { ($0.backend.endpoint, $0.weight) }, uniquingKeysWith: +),
                udpFlowTimeout: service.spec.udpFlowTimeout)
        }
    }

    private func routeBackends(_ backends: [Backend], of service: LocalService, in state: RoutingState) -> [RouteBackend] {
        let stats = counters.counters(for: backends.map { (BackendKey(service: service.spec.name, endpoint: $0.endpoint), $0.cluster) })
        return zip(backends, stats).compactMap { backend, stats in
            try? RouteBackend(endpoint: backend.endpoint, cluster: backend.cluster, stats: stats)
        }
    }

    /// A frontend's ClientIP table follows its service's `sessionAffinity`: none without
    /// ClientIP, a new one when the timeout changes.
    func affinityStore(for frontend: Frontend, _ sessionAffinity: SessionAffinity) -> ClientAffinityStore? {
        guard case .clientIP(let timeout) = sessionAffinity else {
            affinityStores[frontend] = nil
            return nil
        }
        if let store = affinityStores[frontend], store.timeout == timeout { return store }
        let store = ClientAffinityStore(timeout: timeout)
        affinityStores[frontend] = store
        return store
    }

    /// Drops the counters of backends no service has any more, local or remote, and the
    /// ClientIP tables of frontends that are gone (after `apply`/`delete` and a disconnected
    /// cluster: rare, so the whole walk is fine). Open connections keep their counters object;
    /// a backend that comes back starts at 0.
    func prune(_ state: RoutingState, frontends: Set<Frontend>) {
        var kept: Set<BackendKey> = []
        for service in state.services {
            for port in service.ports {
                for backend in port.backends + state.remoteBackends(of: service, port: port) {
                    kept.insert(BackendKey(service: service.spec.name, endpoint: backend.endpoint))
                }
            }
        }
        counters.prune(keeping: kept)
        for frontend in affinityStores.keys where !frontends.contains(frontend) { affinityStores[frontend] = nil }
        let names = Set(state.services.map(\.spec.name))
        for name in routedRemote.keys where !names.contains(name) { routedRemote[name] = nil }
    }
}
