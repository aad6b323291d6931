import Foundation
import InterlinkCore
import Logging

/// Publishes this cluster's global shared services to its own kvstore, as Cilium does:
/// `cilium/cluster-config/<cluster>` (with `serviceExportsEnabled`), one `ClusterService` per
/// service and one `MCSAPIServiceSpec` per MCS-API export under a lease, the
/// synced canaries a Cilium agent waits for once the first full upload is done (services, and
/// the nodes, identities and IPs prefixes, which Interlink leaves empty), and
/// `cilium/.heartbeat` (see `heartbeat()`).
///
/// Several replicas of one cluster may export to the same store: entries are encoded
/// deterministically (sorted keys), so replicas with the same view write identical values and
/// skip writes that would change nothing; each renewal re-reads the cluster's keys and rewrites
/// any that are missing or differ (e.g. expired with another replica's lease), so the store
/// converges instead of flapping. Threading: an actor; call `sync` whenever local state changes.
public actor ServiceExporter {
    public nonisolated let cluster: ClusterName
    public nonisolated let clusterID: ClusterID
    public nonisolated let leaseTTL: Duration
    public nonisolated let maxConnectedClusters: MaxConnectedClusters
    private let store: any KVStore
    private let logger: Logger
    private var lease: Int64 = 0
    private var desired: [String: [UInt8]] = [:]
    private var canaryWritten = false

    public init(
        store: any KVStore, cluster: ClusterName, clusterID: ClusterID, maxConnectedClusters: MaxConnectedClusters = .standard,
        leaseTTL: Duration = .seconds(900), logger: Logger
    ) {
        self.store = store
        self.maxConnectedClusters = maxConnectedClusters
        self.cluster = cluster
        self.clusterID = clusterID
        self.leaseTTL = leaseTTL
        self.logger = logger
    }

    static func encode<Value: Encodable>(_ value: Value) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(value))
    }

    /// Makes the store hold exactly `services` and the MCS-API `exports` for this cluster;
    /// writes the synced canaries after the first complete upload.
    public func sync(_ services: [ClusterService], exports: [MCSAPIServiceSpec] = []) async throws {
        var next: [String: [UInt8]] = [:]
        for service in services {
            let key = KVStoreKeys.service(cluster: cluster, name: ServiceName(namespace: service.namespace, name: service.name))
            next[key] = try Self.encode(service)
        }
        for export in exports {
            let key = KVStoreKeys.serviceExport(cluster: cluster, name: ServiceName(namespace: export.namespace, name: export.name))
            next[key] = try Self.encode(export)
        }
        desired = next
        try await publish()
    }

    /// Renews the lease (every TTL/3 is Cilium's rhythm); re-grants it and writes everything
    /// again if it expired, and repairs keys that went missing or changed.
    public func renew() async throws {
        guard lease != 0 else { return }
        if try await store.keepAlive(lease: lease) <= 0 {
            logger.warning("export lease expired; writing everything again", metadata: ["cluster": "\(cluster)"])
            lease = 0
            canaryWritten = false
        }
        try await publish()
    }

    private func publish() async throws {
        if lease == 0 { try await start() }
        try await reconcileStore()
        if !canaryWritten {
            let now = Array(Self.timestamp().utf8)
            for prefix in KVStoreKeys.canaryPrefixes {
                try await store.put(KVStoreKeys.syncedCanary(cluster: cluster, prefix: prefix), value: now, lease: lease)
            }
            try await store.put(KVStoreKeys.heartbeat, value: now, lease: lease)
            canaryWritten = true
            logger.info("export complete", metadata: ["cluster": "\(cluster)", "services": "\(desired.count)"])
        }
    }

    /// Writes `cilium/.heartbeat` (the time, RFC 3339), under the export lease: call it every
    /// minute, as Cilium's clustermesh-apiserver does. Before the first export it does nothing.
    public func heartbeat() async throws {
        guard lease != 0 else { return }
        try await store.put(KVStoreKeys.heartbeat, value: Array(Self.timestamp().utf8), lease: lease)
    }

    static func timestamp() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date())
    }

    /// Deletes this cluster's entries and revokes the lease (a clean shutdown or disconnect).
    public func withdraw() async throws {
        try await store.delete(KVStoreKeys.servicesPrefix(cluster: cluster), prefix: true)
        try await store.delete(KVStoreKeys.serviceExportsPrefix(cluster: cluster), prefix: true)
        if lease != 0 { try await store.revokeLease(lease) }
        lease = 0
        canaryWritten = false
    }

    private func start() async throws {
        lease = try await store.grantLease(ttl: max(1, Int(leaseTTL.components.seconds)))
        let config = ClusterConfig(id: Int(clusterID.rawValue), capabilities: .init(
            syncedCanaries: true, maxConnectedClusters: maxConnectedClusters.rawValue, serviceExportsEnabled: true))
        try await store.put(KVStoreKeys.clusterConfig(cluster: cluster), value: try Self.encode(config), lease: lease)
    }

    /// Compares the store with `desired`: puts what is missing or different, deletes the rest.
    private func reconcileStore() async throws {
        var inStore: [String: [UInt8]] = [:]
        for prefix in [KVStoreKeys.servicesPrefix(cluster: cluster), KVStoreKeys.serviceExportsPrefix(cluster: cluster)] {
            for kv in try await store.range(prefix, prefix: true, revision: 0).kvs { inStore[kv.key] = kv.value }
        }
        for (key, value) in desired.sorted(by: { $0.key < $1.key }) where inStore[key] != value {
            try await store.put(key, value: value, lease: lease)
        }
        for key in inStore.keys.sorted() where desired[key] == nil {
            try await store.delete(key, prefix: false)
        }
    }
}
