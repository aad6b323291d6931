import InterlinkCore
import InterlinkProxy
import NIOConcurrencyHelpers

/// The per-backend counters and the per-service-and-cluster connection tallies: made by the
/// route reconciler when it first routes to a backend, read by the API, the metrics and the
/// dashboard.
///
/// Threading: one shared object behind a lock, not a value in the published `RouteView`: the
/// view is published after every application, and a dictionary of every backend copied each
/// time (508,000 at full scale) was the agent's largest cost.
final class BackendCounters: Sendable {
    private struct Guarded {
        var stats: [BackendKey: BackendStats] = [:]
        var tallies = ConnectionTallies()
    }

    private let guarded = NIOLockedValueBox(Guarded())
    private let observers: RouteReconciler.Observers

    init(observers: RouteReconciler.Observers) {
        self.observers = observers
    }

    /// The counters of each backend, made on first use; a backend's connections also count in
    /// its service and cluster's tally.
    func counters(for backends: [(key: BackendKey, cluster: ClusterName)]) -> [BackendStats] {
        guarded.withLockedValue { guarded in
            backends.map { key, cluster in
                if let counters = guarded.stats[key] { return counters }
                let counters = BackendStats(tally: guarded.tallies.tally(key.service, cluster, observers: observers))
                guarded.stats[key] = counters
                return counters
            }
        }
    }

    /// The counters of a backend, nil when nothing was routed to it yet.
    func existing(_ key: BackendKey) -> BackendStats? {
        guarded.withLockedValue { $0.stats[key] }
    }

    /// Drops the counters of every backend not in `kept`. Open connections keep their counters
    /// object; a backend that comes back starts at 0.
    func prune(keeping kept: Set<BackendKey>) {
        guarded.withLockedValue { guarded in
            for key in guarded.stats.keys where !kept.contains(key) { guarded.stats[key] = nil }
        }
    }

    /// Service → cluster → connections opened so far, for the services given.
    func totals(of services: [ServiceName]) -> [String: [String: Int]] {
        guarded.withLockedValue { $0.tallies.totals(of: services) }
    }
}
