import InterlinkAPI
import InterlinkCore

extension RouteView {
    /// What `GET /v1/services` returns: every service, frontend and backend with its verdict.
    public func servicesDocument(now: ContinuousClock.Instant = .now) -> ServicesDocument {
        let lastChanges = state.changes.latestByService()
        return ServicesDocument(
            cluster: .init(name: state.cluster.rawValue, id: Int(state.clusterID.rawValue)),
            services: state.services.map { service in
                let spec = service.spec
                var document = ServicesDocument.Service(
                    namespace: spec.name.namespace, name: spec.name.name, clusterIP: spec.clusterIP.description,
                    global: spec.isGlobal, shared: spec.isShared, affinity: spec.affinity.rawValue,
                    algorithm: spec.algorithm.rawValue, sessionAffinity: ServicesDocument.SessionAffinity(spec.sessionAffinity),
                    healthCheck: ServicesDocument.HealthCheck(spec.healthCheck), routing: ServicesDocument.Routing(spec.routing), annotations: spec.annotations,
                    frontends: service.ports.map { port in
                        let plan = plan(of: service, port: port, now: now)
                        let candidates = state.candidates(of: service, port: port, now: now)
                        let shares = Dictionary(plan.weighted.map { ($0.backend.endpoint, $0.weight) }, uniquingKeysWith: +)
                        let reasons = Dictionary(plan.excluded.map { ($0.backend.endpoint, $0.reason) }, uniquingKeysWith: { first, _ in first })
                        return ServicesDocument.Frontend(
                            address: port.frontend.endpoint.description, protocol: port.frontend.transport.rawValue, portName: port.port.name,
                            explanation: explanation(of: spec, plan: plan, candidates: candidates),
                            backends: candidates.map { candidate in
                                let backend = candidate.backend
                                let key = BackendKey(service: spec.name, endpoint: backend.endpoint)
                                let health = state.healthState(for: key, now: now)
                                let counters = counters(key)
                                let share = shares[backend.endpoint]
                                return ServicesDocument.Backend(
                                    address: backend.endpoint.description, cluster: backend.cluster.rawValue,
                                    state: backend.state.rawValue, health: health.health, healthDetail: health.detail,
                                    eligible: share != nil,
                                    reason: candidate.refusal.map { "refused: never dialled: \($0)" }
                                        ?? (share == nil ? reasons[backend.endpoint] ?? "takes no new connections" : nil),
                                    activeConnections: counters?.active ?? 0, totalConnections: counters?.total ?? 0,
                                    failedDials: counters?.failedDials ?? 0, zone: backend.zone, hostname: backend.hostname, share: share ?? 0)
                            },
                            tiers: plan.tiers.map(ServicesDocument.Tier.init), panic: plan.isPanic)
                    },
                    lastChange: lastChanges["\(spec.name)"])
                if let view = state.importView(of: service) {
                    document.clusterSet = ServicesDocument.ClusterSet(exportCreationTimestamp: spec.export?.creationTimestamp ?? "", view: view)
                }
                return document
            })
    }

    /// Why a frontend's backends take the share they do: Cilium's affinity in a sentence, then
    /// the planner's tiers when a policy annotation is set; in panic, the planner's alone.
    func explanation(of spec: ServiceSpec, plan: RoutePlan, candidates: [BackendCandidate]) -> String {
        if plan.isPanic { return plan.explanation }
        let taking = Set(plan.weighted.map(\.backend.endpoint))
        let affinity = explainSelection(
            localCluster: state.cluster.rawValue, isGlobal: spec.isGlobal, affinity: spec.affinity,
            backends: candidates.map { candidate in
                ExplainedBackend(
                    cluster: candidate.backend.cluster.rawValue, isLocal: candidate.isLocal, state: candidate.backend.state,
                    isHealthy: candidate.isHealthy, isEligible: taking.contains(candidate.backend.endpoint), isDrained: candidate.isDrained,
                    isRefused: candidate.refusal != nil)
            })
        guard spec.routing != RoutingPolicy() else { return affinity }
        return affinity + " Plan: " + plan.explanation
    }
}
