import InterlinkCore
import InterlinkProxy

extension Reconciler {
    func candidates(of service: LocalService, port: LocalService.Port) -> [BackendCandidate] {
        let merge = BackendMerge(local: port.backends, remote: remoteBackends(of: service, port: port))
        return merge.backends.map { entry in
            let key = BackendKey(service: service.spec.name, endpoint: entry.backend.endpoint)
            let healthy = entry.isLocal ? (health[key]?.isUp ?? true) : !isEjected(key)
            return BackendCandidate(
                backend: entry.backend, isLocal: entry.isLocal, isHealthy: healthy, isDrained: drained.contains(entry.backend.endpoint),
                refusal: addressPolicy.refusal(entry.backend.endpoint, isLocal: entry.isLocal))
        }
    }

    func routes() -> [FrontendRoute] {
        planning.keep(only: Set(services.flatMap { $0.ports.map(\.frontend) }))
        return services.flatMap { routes(of: $0) }
    }

    /// The service's routes from the route planner: the backends with a share, weighted, and
    /// as the fallback for retries the backends the planner would choose if those were down.
    func routes(of service: LocalService) -> [FrontendRoute] {
        let now = ContinuousClock.now
        routedRemoteBackends[service.spec.name] = 0
        return service.ports.map { port in
            let candidates = candidates(of: service, port: port)
            routedRemoteBackends[service.spec.name, default: 0] += candidates.count { !$0.isLocal }
            let input = RoutePlanInput(
                localCluster: cluster, isGlobal: service.spec.isGlobal, affinity: service.spec.affinity, policy: service.spec.routing,
                candidates: candidates, now: now)
            let plan = planning.plan(frontend: port.frontend, input)
            let taking = Set(plan.weighted.map(\.backend.endpoint))
            var degraded = input
            degraded.candidates = candidates.map { candidate in
                var candidate = candidate
                if taking.contains(candidate.backend.endpoint) { candidate.isHealthy = false }
                return candidate
            }
            degraded.policy.panic = false
            degraded.policy.failbackDelay = .zero
            degraded.policy.failbackRamp = .zero
            let fallback = RoutePlanner.plan(degraded).weighted.map(\.backend)
            return FrontendRoute(
                service: service.spec.name, frontend: port.frontend, backends: routeBackends(plan.weighted.map(\.backend), of: service),
                fallback: routeBackends(fallback, of: service), algorithm: service.spec.algorithm, affinity: affinityStore(for: port.frontend),
                weights: Dictionary(plan.weighted.map { ($0.backend.endpoint, $0.weight) }, uniquingKeysWith: +))
        }
    }

    /// Plans again the services whose plan moves with time (failback delay and ramp).
    func replanTimed(now: ContinuousClock.Instant) {
        var policies: [SocketEndpoint: RoutingPolicy] = [:]
        for service in services { for port in service.ports { policies[port.frontend] = service.spec.routing } }
        let timed = planning.timed(now: now, policies: policies)
        guard !timed.isEmpty else { return }
        for service in services where service.ports.contains(where: { timed.contains($0.frontend) }) {
            proxy.publish(routes(of: service))
        }
    }

    /// The last plan of a frontend, planned now if it has none yet.
    func plan(of service: LocalService, port: LocalService.Port) -> RoutePlan {
        if let plan = planning.plans[port.frontend] { return plan }
        return RoutePlanner.plan(RoutePlanInput(
            localCluster: cluster, isGlobal: service.spec.isGlobal, affinity: service.spec.affinity, policy: service.spec.routing,
            candidates: candidates(of: service, port: port), now: .now))
    }

    private func routeBackends(_ backends: [Backend], of service: LocalService) -> [RouteBackend] {
        backends.compactMap { backend in
            let key = BackendKey(service: service.spec.name, endpoint: backend.endpoint)
            return try? RouteBackend(endpoint: backend.endpoint, cluster: backend.cluster, stats: counters(for: key, cluster: backend.cluster))
        }
    }
}
