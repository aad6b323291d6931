import InterlinkAPI
import InterlinkCore

extension Reconciler {
    /// What `GET /v1/services` returns: every service, frontend and backend with its verdict.
    public func servicesDocument() -> ServicesDocument {
        let lastChanges = changes.latestByService()
        return ServicesDocument(
            cluster: .init(name: cluster.rawValue, id: Int(clusterID.rawValue)),
            services: services.map { service in
                let spec = service.spec
                return ServicesDocument.Service(
                    namespace: spec.name.namespace, name: spec.name.name, clusterIP: spec.clusterIP.description,
                    global: spec.isGlobal, shared: spec.isShared, affinity: spec.affinity.rawValue,
                    algorithm: spec.algorithm.rawValue, sessionAffinity: ServicesDocument.SessionAffinity(spec.sessionAffinity),
                    healthCheck: ServicesDocument.HealthCheck(spec.healthCheck), annotations: spec.annotations,
                    frontends: service.ports.map { port in
                        let selection = selectBackends(candidates(of: service, port: port), isGlobal: spec.isGlobal, affinity: spec.affinity)
                        let explanation = explainSelection(
                            localCluster: cluster.rawValue, isGlobal: spec.isGlobal, affinity: spec.affinity,
                            backends: selection.verdicts.map { verdict in
                                ExplainedBackend(
                                    cluster: verdict.candidate.backend.cluster.rawValue, isLocal: verdict.candidate.isLocal,
                                    state: verdict.candidate.backend.state, isHealthy: verdict.candidate.isHealthy,
                                    isEligible: verdict.ineligibility == nil, isDrained: verdict.candidate.isDrained,
                                    isRefused: verdict.candidate.refusal != nil)
                            })
                        return ServicesDocument.Frontend(
                            address: port.frontend.description, portName: port.port.name, explanation: explanation,
                            backends: selection.verdicts.map { verdict in
                                let backend = verdict.candidate.backend
                                let key = BackendKey(service: spec.name, endpoint: backend.endpoint)
                                let state = healthState(for: key)
                                let counters = statsFor(key)
                                return ServicesDocument.Backend(
                                    address: backend.endpoint.description, cluster: backend.cluster.rawValue,
                                    state: backend.state.rawValue, health: state.health, healthDetail: state.detail,
                                    eligible: verdict.ineligibility == nil,
                                    reason: verdict.candidate.refusal.map { "refused: never dialled: \($0)" } ?? verdict.ineligibility?.rawValue,
                                    activeConnections: counters?.active ?? 0, totalConnections: counters?.total ?? 0,
                                    failedDials: counters?.failedDials ?? 0, zone: backend.zone, hostname: backend.hostname)
                            })
                    },
                    lastChange: lastChanges["\(spec.name)"])
            })
    }
}
