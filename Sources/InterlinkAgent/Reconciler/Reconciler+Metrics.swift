import InterlinkCore

extension Reconciler {
    /// What `/metrics` reports of the routing, per service and cluster (bounded labels: no
    /// client address, and per-backend series only for local backends).
    public struct MetricsSnapshot: Sendable {
        public struct ClusterShare: Sendable {
            public var service: String
            public var cluster: String
            public var total = 0, healthy = 0, eligible = 0
            public var opened = 0, active = 0, failedDials = 0, bytesReceived = 0, bytesSent = 0
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
        public var changeTotals: [String: Int] = [:]
    }

    public func metricsSnapshot() -> MetricsSnapshot {
        var snapshot = MetricsSnapshot(changeTotals: changes.totals)
        for service in services {
            let spec = service.spec
            var shares: [String: MetricsSnapshot.ClusterShare] = [:]
            var servedLocally = false, servedRemotely = false
            for port in service.ports {
                let selection = selectBackends(candidates(of: service, port: port), isGlobal: spec.isGlobal, affinity: spec.affinity)
                for (candidate, ineligibility) in selection.verdicts {
                    let backend = candidate.backend
                    var share = shares[backend.cluster.rawValue] ?? .init(service: "\(spec.name)", cluster: backend.cluster.rawValue)
                    share.total += 1
                    if candidate.isHealthy && backend.state != .maintenance { share.healthy += 1 }
                    if ineligibility == nil {
                        share.eligible += 1
                        if candidate.isLocal { servedLocally = true } else { servedRemotely = true }
                    }
                    if let counters = statsFor(BackendKey(service: spec.name, endpoint: backend.endpoint)) {
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
            snapshot.failover["\(spec.name)"] = spec.isGlobal
                && ((spec.affinity == .local && servedRemotely && !servedLocally) || (spec.affinity == .remote && servedLocally && !servedRemotely))
        }
        return snapshot
    }
}
