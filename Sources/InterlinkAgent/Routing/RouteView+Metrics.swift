import InterlinkCore

extension RouteView {
    /// What `/metrics` reports of the routing, per service and cluster (bounded labels: no
    /// client address, and per-backend series only for local backends).
    public struct MetricsSnapshot: Sendable {
        public struct ClusterShare: Sendable {
            public var service: String
            public var cluster: String
            public var total = 0, healthy = 0, eligible = 0
            public var opened = 0, active = 0, failedDials = 0, bytesReceived = 0, bytesSent = 0
            /// The route planner's share of new connections for this cluster (averaged over the
            /// service's ports), 0 to 1.
            public var plannedShare = 0.0
        }

        public struct LocalBackend: Sendable {
            public var service: String
            public var backend: String
            public var healthy: Bool
            public var eligible: Bool
        }

        public var shares: [ClusterShare] = []
        public var localBackends: [LocalBackend] = []
        /// Per service: true when its new connections are not where its affinity prefers
        /// (local affinity served remotely, remote affinity served locally).
        public var failover: [String: Bool] = [:]
        /// Per service: true when no tier has a healthy backend and every backend is tried.
        public var panic: [String: Bool] = [:]
        public var changeTotals: [String: Int] = [:]
    }

    public func metricsSnapshot() -> MetricsSnapshot {
        let now = ContinuousClock.now
        var snapshot = MetricsSnapshot(changeTotals: state.changes.totals)
        for service in state.services {
            let spec = service.spec
            var shares: [String: MetricsSnapshot.ClusterShare] = [:]
            var servedLocally = false, servedRemotely = false
            for port in service.ports {
                let plan = plan(of: service, port: port, now: now)
                let taking = Set(plan.weighted.map(\.backend.endpoint))
                if plan.isPanic { snapshot.panic["\(spec.name)"] = true }
                for (cluster, planned) in plan.clusterShares {
                    var share = shares[cluster.rawValue] ?? .init(service: "\(spec.name)", cluster: cluster.rawValue)
                    share.plannedShare += planned / Double(max(1, service.ports.count))
                    shares[cluster.rawValue] = share
                }
                for candidate in state.candidates(of: service, port: port, now: now) {
                    let ineligibility: String? = taking.contains(candidate.backend.endpoint) ? nil : "excluded"
                    let backend = candidate.backend
                    var share = shares[backend.cluster.rawValue] ?? .init(service: "\(spec.name)", cluster: backend.cluster.rawValue)
                    share.total += 1
                    if candidate.isHealthy && backend.state != .maintenance { share.healthy += 1 }
                    if ineligibility == nil {
                        share.eligible += 1
                        if candidate.isLocal { servedLocally = true } else { servedRemotely = true }
                    }
                    if let counters = counters(BackendKey(service: spec.name, endpoint: backend.endpoint)) {
                        share.opened += counters.total
                        share.active += counters.active
                        share.failedDials += counters.failedDials
                        share.bytesReceived += counters.bytesReceived
                        share.bytesSent += counters.bytesSent
                    }
                    shares[backend.cluster.rawValue] = share
                    if candidate.isLocal {
                        snapshot.localBackends.append(.init(
                            service: "\(spec.name)", backend: backend.endpoint.description,
                            healthy: candidate.isHealthy && backend.state != .maintenance, eligible: ineligibility == nil))
                    }
                }
            }
            snapshot.shares += shares.values.sorted { $0.cluster < $1.cluster }
            if snapshot.panic["\(spec.name)"] == nil { snapshot.panic["\(spec.name)"] = false }
            snapshot.failover["\(spec.name)"] = spec.isGlobal
                && ((spec.affinity == .local && servedRemotely && !servedLocally) || (spec.affinity == .remote && servedLocally && !servedRemotely))
        }
        return snapshot
    }
}
