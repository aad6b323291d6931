import Foundation
import InterlinkCore
import NIOConcurrencyHelpers
import Prometheus

/// The agent's Prometheus metrics (swift-prometheus), served at `GET /metrics`.
///
/// Connect latency and remote-update apply delay are recorded as they happen; everything
/// else is read from the reconciler and the mesh roster at scrape time. Labels are bounded:
/// service, cluster, and backend only for local backends; never a client address.
///
/// Threading: safe from any thread (the registry locks; the counter baselines are locked).
public final class AgentMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let counterBaselines = NIOLockedValueBox<[String: Int]>([:])
    static let latencyBuckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2.5), .milliseconds(5),
        .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5),
    ]

    public init() {}

    /// Hooks for the reconciler.
    public var observers: Reconciler.Observers {
        var observers = Reconciler.Observers()
        let registry = self.registry
        observers.connectLatency = { service, cluster in
            let histogram = registry.makeDurationHistogram(
                name: "interlink_connect_duration_seconds", labels: [("service", "\(service)"), ("cluster", cluster.rawValue)],
                buckets: Self.latencyBuckets)
            return { duration in histogram.record(duration) }
        }
        let applied = registry.makeDurationHistogram(name: "interlink_remote_update_apply_seconds", buckets: Self.latencyBuckets)
        observers.remoteApplied = { duration in applied.record(duration) }
        return observers
    }

    /// The text exposition format, refreshed from the reconciler and the roster.
    func render(reconciler: Reconciler, remotes: [ClustersDocument.Remote]) async -> String {
        let snapshot = await reconciler.metricsSnapshot()
        for share in snapshot.shares {
            let labels = [("service", share.service), ("cluster", share.cluster)]
            counter("interlink_connections_opened_total", labels, share.opened)
            counter("interlink_connect_failures_total", labels, share.failedDials)
            counter("interlink_received_bytes_total", labels, share.bytesReceived)
            counter("interlink_sent_bytes_total", labels, share.bytesSent)
            registry.makeGauge(name: "interlink_connections_active", labels: labels).set(to: Double(share.active))
            for (condition, value) in [("total", share.total), ("healthy", share.healthy), ("eligible", share.eligible)] {
                registry.makeGauge(name: "interlink_backends", labels: labels + [("condition", condition)]).set(to: Double(value))
            }
            registry.makeGauge(name: "interlink_service_cluster_preferred", labels: labels).set(to: share.eligible > 0 ? 1 : 0)
        }
        for backend in snapshot.localBackends {
            let labels = [("service", backend.service), ("backend", backend.backend)]
            registry.makeGauge(name: "interlink_backend_healthy", labels: labels).set(to: backend.healthy ? 1 : 0)
            registry.makeGauge(name: "interlink_backend_eligible", labels: labels).set(to: backend.eligible ? 1 : 0)
        }
        for (service, failover) in snapshot.failover {
            registry.makeGauge(name: "interlink_service_failover", labels: [("service", service)]).set(to: failover ? 1 : 0)
        }
        for (kind, total) in snapshot.changeTotals {
            counter("interlink_routing_changes_total", [("kind", kind)], total)
        }
        for remote in remotes {
            let labels = [("cluster", remote.name)]
            registry.makeGauge(name: "interlink_remote_cluster_connected", labels: labels).set(to: remote.connected ? 1 : 0)
            if let age = remote.lastSyncAgeSeconds {
                registry.makeGauge(name: "interlink_remote_cluster_last_sync_timestamp_seconds", labels: labels)
                    .set(to: Date().timeIntervalSince1970 - age)
            }
            registry.makeGauge(name: "interlink_remote_cluster_services", labels: labels).set(to: Double(remote.services))
            registry.makeGauge(name: "interlink_remote_cluster_backends", labels: labels).set(to: Double(remote.backends))
            registry.makeGauge(name: "interlink_remote_cluster_invalid_entries", labels: labels).set(to: Double(remote.invalidEntries))
            counter("interlink_remote_cluster_failures_total", labels, remote.failures)
        }
        return registry.emitToString()
    }

    /// Brings a Prometheus counter up to a cumulative total read elsewhere.
    private func counter(_ name: String, _ labels: [(String, String)], _ total: Int) {
        let key = name + labels.map { "\($0.0)=\($0.1)" }.joined(separator: ",")
        let delta = counterBaselines.withLockedValue { baselines -> Int in
            let previous = baselines[key] ?? 0
            baselines[key] = max(previous, total)
            return max(0, total - previous)
        }
        let counter = registry.makeCounter(name: name, labels: labels)
        if delta > 0 { counter.increment(by: Int64(delta)) }
    }
}
