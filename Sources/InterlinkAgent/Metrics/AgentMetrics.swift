import Atomics
import Foundation
import InterlinkAPI
import InterlinkCore
import NIOConcurrencyHelpers
import Prometheus

/// The agent's Prometheus metrics, served at `GET /metrics`.
///
/// Connect latency and remote-update apply delay are recorded as they happen, in a
/// swift-prometheus registry; everything else is read from what the route reconciler applied and the mesh roster
/// at scrape time and written with `ExpositionText`, so a scrape shows exactly the services
/// and clusters of now. Labels are bounded: service, cluster, and backend only for local
/// backends; never a client address.
///
/// Threading: safe from any thread (the registry locks; the counter floors are locked).
public final class AgentMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    /// The last value each counter series showed: a counter never goes down, even when the
    /// backends it sums are replaced.
    private let counterFloors = NIOLockedValueBox<[String: Int]>([:])
    static let latencyBuckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2.5), .milliseconds(5),
        .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5),
    ]

    private struct ServiceCluster: Hashable {
        var service: ServiceName
        var cluster: ClusterName
    }
    private let connectHistograms = NIOLockedValueBox<[ServiceCluster: DurationHistogram]>([:])

    public init() {}

    /// Hooks for the route reconciler.
    public var observers: RouteReconciler.Observers {
        var observers = RouteReconciler.Observers()
        // A histogram is registered on the first connection of its service and cluster, not
        // when its backends appear: registering a label set copies the registry's family
        // (O(label sets)), which for 254 remote clusters made the sync quadratic. Then it is
        // kept by the closure, so a connection takes neither a lock nor a lookup.
        observers.connectLatency = { service, cluster in
            let histogram = ManagedAtomicLazyReference<DurationHistogram>()
            return { [self] duration in
                let recorder = histogram.load()
                    ?? histogram.storeIfNilThenLoad(connectHistogram(ServiceCluster(service: service, cluster: cluster)))
                recorder.record(duration)
            }
        }
        let applied = registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(
                namespace: "interlink", metricName: "remote_update_apply", unitName: "seconds",
                helpText: "From a remote update's arrival to its publication to the data plane"),
            buckets: Self.latencyBuckets)
        observers.remoteApplied = { duration in applied.record(duration) }
        return observers
    }

    private func connectHistogram(_ key: ServiceCluster) -> DurationHistogram {
        connectHistograms.withLockedValue { histograms in
            if let histogram = histograms[key] { return histogram }
            let histogram = registry.makeDurationHistogram(
                descriptor: MetricNameDescriptor(
                    namespace: "interlink", metricName: "connect_duration", unitName: "seconds",
                    helpText: "Time to connect to a backend, per service and backend cluster"),
                labels: [("service", "\(key.service)"), ("cluster", key.cluster.rawValue)],
                buckets: Self.latencyBuckets)
            histograms[key] = histogram
            return histogram
        }
    }

    /// The text exposition format: the state read now, then the recorded histograms.
    func render(view: RouteView, remotes: [ClustersDocument.Remote]) -> [UInt8] {
        let snapshot = view.metricsSnapshot()
        var text = ExpositionText(reservingCapacity: 4096 + snapshot.shares.count * 1200)
        let counters: [(name: String, help: String, value: (RouteView.MetricsSnapshot.ClusterShare) -> Int)] = [
            ("interlink_connections_opened_total", "Connections proxied to that cluster's backends", \.opened),
            ("interlink_connect_failures_total", "Failed dials to that cluster's backends", \.failedDials),
            ("interlink_received_bytes_total", "Bytes from clients to that cluster's backends", \.bytesReceived),
            ("interlink_sent_bytes_total", "Bytes from that cluster's backends to clients", \.bytesSent),
        ]
        counterFloors.withLockedValue { floors in
            for counter in counters {
                text.family(counter.name, "counter", help: counter.help)
                for share in snapshot.shares {
                    let value = Self.monotonic(&floors, counter.name + "|" + share.service + "|" + share.cluster, counter.value(share))
                    text.sample(counter.name, ["service": share.service, "cluster": share.cluster], value)
                }
            }
        }
        text.family("interlink_connections_active", "gauge", help: "Connections open now to that cluster's backends")
        for share in snapshot.shares {
            text.sample("interlink_connections_active", ["service": share.service, "cluster": share.cluster], share.active)
        }
        text.family("interlink_backends", "gauge", help: "Backends of the service in that cluster: total, healthy, eligible for new connections")
        for share in snapshot.shares {
            for (condition, value) in [("total", share.total), ("healthy", share.healthy), ("eligible", share.eligible)] {
                text.sample("interlink_backends", ["service": share.service, "cluster": share.cluster, "condition": condition], value)
            }
        }
        text.family("interlink_service_cluster_preferred", "gauge", help: "1 when that cluster takes the service's new connections now")
        for share in snapshot.shares {
            text.sample("interlink_service_cluster_preferred", ["service": share.service, "cluster": share.cluster], share.eligible > 0 ? 1 : 0)
        }
        text.family("interlink_service_cluster_share", "gauge", help: "The route planner's share of new connections for that cluster, 0 to 1")
        for share in snapshot.shares {
            text.sample("interlink_service_cluster_share", ["service": share.service, "cluster": share.cluster], share.plannedShare)
        }
        text.family("interlink_backend_healthy", "gauge", help: "1 when the local backend passes its health checks")
        for backend in snapshot.localBackends {
            text.sample("interlink_backend_healthy", ["service": backend.service, "backend": backend.backend], backend.healthy ? 1 : 0)
        }
        text.family("interlink_backend_eligible", "gauge", help: "1 when the local backend takes new connections now")
        for backend in snapshot.localBackends {
            text.sample("interlink_backend_eligible", ["service": backend.service, "backend": backend.backend], backend.eligible ? 1 : 0)
        }
        text.family("interlink_service_failover", "gauge", help: "1 when the service's traffic is not where its affinity prefers")
        for (service, failover) in snapshot.failover.sorted(by: { $0.key < $1.key }) {
            text.sample("interlink_service_failover", ["service": service], failover ? 1 : 0)
        }
        text.family("interlink_service_panic", "gauge", help: "1 when no tier has a healthy backend and new connections try every backend (interlink.io/panic)")
        for (service, panic) in snapshot.panic.sorted(by: { $0.key < $1.key }) {
            text.sample("interlink_service_panic", ["service": service], panic ? 1 : 0)
        }
        text.family("interlink_routing_changes_total", "counter", help: "Routing changes by kind")
        for (kind, total) in snapshot.changeTotals.sorted(by: { $0.key < $1.key }) {
            text.sample("interlink_routing_changes_total", ["kind": kind], total)
        }
        renderRemotes(remotes, into: &text)
        var histograms: [UInt8] = []
        registry.emit(into: &histograms)
        return text.bytes + histograms
    }

    private func renderRemotes(_ remotes: [ClustersDocument.Remote], into text: inout ExpositionText) {
        text.family("interlink_remote_cluster_connected", "gauge", help: "1 while the remote cluster's store is followed")
        for remote in remotes { text.sample("interlink_remote_cluster_connected", ["cluster": remote.name], remote.connected ? 1 : 0) }
        text.family("interlink_remote_cluster_last_sync_timestamp_seconds", "gauge", help: "Last list or watch event from the remote cluster")
        let now = Date().timeIntervalSince1970
        for remote in remotes {
            guard let age = remote.lastSyncAgeSeconds else { continue }
            text.sample("interlink_remote_cluster_last_sync_timestamp_seconds", ["cluster": remote.name], now - age)
        }
        let gauges: [(name: String, help: String, value: (ClustersDocument.Remote) -> Int)] = [
            ("interlink_remote_cluster_services", "Global services the remote cluster exports", \.services),
            ("interlink_remote_cluster_backends", "Backends the remote cluster exports", \.backends),
            ("interlink_remote_cluster_invalid_entries", "Entries of the remote cluster skipped as invalid", \.invalidEntries),
        ]
        for gauge in gauges {
            text.family(gauge.name, "gauge", help: gauge.help)
            for remote in remotes { text.sample(gauge.name, ["cluster": remote.name], gauge.value(remote)) }
        }
        text.family("interlink_remote_cluster_failures_total", "counter", help: "Connection attempts to the remote cluster's store that failed")
        counterFloors.withLockedValue { floors in
            for remote in remotes {
                let value = Self.monotonic(&floors, "interlink_remote_cluster_failures_total|" + remote.name, remote.failures)
                text.sample("interlink_remote_cluster_failures_total", ["cluster": remote.name], value)
            }
        }
    }

    /// A counter's value: the total read now, or the last value shown if that was higher.
    private static func monotonic(_ floors: inout [String: Int], _ key: String, _ total: Int) -> Int {
        let value = max(floors[key] ?? 0, total)
        floors[key] = value
        return value
    }
}
