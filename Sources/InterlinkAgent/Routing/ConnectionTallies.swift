import InterlinkCore
import InterlinkProxy

/// The connection tally of every service and cluster that has had a backend (see
/// `ConnectionTally`). Owned by the route reconciler.
struct ConnectionTallies: Sendable {
    private struct Key: Hashable {
        var service: ServiceName
        var cluster: ClusterName
    }
    private var tallies: [Key: ConnectionTally] = [:]
    private var clusters: [ServiceName: Set<ClusterName>] = [:]

    /// The tally of a service in a cluster, made on first use.
    mutating func tally(_ service: ServiceName, _ cluster: ClusterName, observers: RouteReconciler.Observers) -> ConnectionTally {
        let key = Key(service: service, cluster: cluster)
        if let tally = tallies[key] { return tally }
        let tally = ConnectionTally(connectObserver: observers.connectLatency(service, cluster))
        tallies[key] = tally
        clusters[service, default: []].insert(cluster)
        return tally
    }

    /// Service → cluster → connections opened so far, for the services given.
    func totals(of services: [ServiceName]) -> [String: [String: Int]] {
        var totals: [String: [String: Int]] = [:]
        for service in services {
            for cluster in clusters[service] ?? [] {
                totals["\(service)", default: [:]][cluster.rawValue] = tallies[Key(service: service, cluster: cluster)]?.total ?? 0
            }
        }
        return totals
    }
}
