import Foundation
import InterlinkCore
import Logging

/// Follows one remote cluster's kvstore: checks its cluster config, waits for its synced canary
/// (when it advertises `syncedCanaries`: until then nothing known is pruned, so a store that
/// restarted empty does not make its backends vanish), lists its services (under
/// `cilium/cache/` for a KVStoreMesh cache), then watches from the listed revision + 1. On any failure it keeps what it knows (unless told to
/// forget after `cacheTTL`), reconnects with capped exponential backoff and jitter, and resyncs:
/// entries not listed again are dropped. A compacted watch re-lists.
///
/// Waits, backoffs and the cache TTL run on the injected clock.
///
/// Threading: an actor; `run()` until cancelled; every change is passed to `onChange`.
public actor RemoteClusterWatcher {
    public struct Status: Hashable, Sendable {
        public var connected = false
        public var lastSync: Date?
        public var failures = 0
        public var lastError: String?
        /// Services and distinct backends received, invalid entries skipped (and the last reason).
        public var services = 0
        public var backends = 0
        public var invalidEntries = 0
        public var lastInvalid: String?
        /// From the remote's cluster config: a KVStoreMesh cache, synced canaries used.
        public var cached = false
        public var syncedCanaries = false
        /// Whether the services canary was seen on this connection (nil: the remote writes none).
        public var canarySeen: Bool?
        /// What the remote's capabilities mean for this cluster, such as exporting no services.
        public var note: String?
    }

    /// The status with the cache's counts.
    public func report() -> Status {
        var report = status
        report.services = cache.services.count
        if countedBackends == nil {
            countedBackends = Set(cache.services.values.flatMap { $0.backends.values.flatMap { $0.map(\.endpoint) } }).count
        }
        report.backends = countedBackends ?? 0
        report.invalidEntries = cache.invalidEntries
        report.lastInvalid = cache.lastInvalid.map { "\($0)" }
        return report
    }

    public let cluster: ClusterName
    public let clusterID: ClusterID
    private let maxConnectedClusters: MaxConnectedClusters
    private let store: any RemoteStore
    private let clock: Timeline
    private let cacheTTL: Duration?
    /// How often a followed store is read to check that it still answers.
    private let livenessInterval: Duration
    /// How often a missing synced canary is looked for again.
    private let canaryInterval: Duration
    private let logger: Logger
    private let onChange: @Sendable (RemoteServiceCache) async -> Void
    public private(set) var cache: RemoteServiceCache {
        didSet { countedBackends = nil }
    }
    /// The distinct backends of `cache`, counted once per change rather than per report (the
    /// status is polled; a cluster may export thousands of backends).
    private var countedBackends: Int?
    public private(set) var status = Status()

    public init(
        cluster: ClusterName, clusterID: ClusterID, maxConnectedClusters: MaxConnectedClusters = .standard, store: any RemoteStore,
        cacheTTL: Duration? = nil, livenessInterval: Duration = .seconds(5), canaryInterval: Duration = .milliseconds(500),
        clock: any Clock<Duration> = ContinuousClock(), logger: Logger, onChange: @escaping @Sendable (RemoteServiceCache) async -> Void
    ) {
        self.clock = Timeline(clock)
        self.livenessInterval = livenessInterval
        self.canaryInterval = canaryInterval
        self.maxConnectedClusters = maxConnectedClusters
        self.cluster = cluster
        self.clusterID = clusterID
        self.store = store
        self.cacheTTL = cacheTTL
        self.logger = logger
        self.onChange = onChange
        self.cache = RemoteServiceCache(cluster: cluster, clusterID: clusterID)
    }

    public func run() async {
        var attempt = 0
        var disconnectedSince: ContinuousClock.Instant?
        while !Task.isCancelled {
            do {
                try await syncOnce { attempt = 0; disconnectedSince = nil }
            } catch is CancellationError {
                return
            } catch KVStoreError.compacted(let revision) {
                // Not a failure: the history we would resume from is gone; re-list at once.
                logger.info("remote watch compacted; re-listing", metadata: ["cluster": "\(cluster)", "compact-revision": "\(revision)"])
                attempt = 0
                continue
            } catch {
                status.connected = false
                status.failures += 1
                status.lastError = "\(error)"
                logger.warning("remote cluster unavailable; retrying", metadata: ["cluster": "\(cluster)", "error": "\(error)"])
                let since = disconnectedSince ?? clock.now
                disconnectedSince = since
                if let cacheTTL, clock.now - since >= cacheTTL, !cache.services.isEmpty {
                    cache.clear()
                    await onChange(cache)
                }
            }
            attempt += 1
            let backoff = min(10.0, 0.1 * pow(2.0, Double(min(attempt, 10))))
            try? await clock.sleep(for: .milliseconds(Int(backoff * Double.random(in: 0.5...1.0) * 1000)))
        }
    }

    /// One connection: check the config, wait for the canary, list, then follow the watch
    /// until it fails.
    private func syncOnce(connected: () -> Void) async throws {
        let config = try await checkConfig()
        let cached = config?.capabilities.cached ?? false
        status.cached = cached
        status.syncedCanaries = config?.capabilities.syncedCanaries ?? false
        status.note = config?.capabilities.exportsNoV1Services == true
            ? "exports no services in the v1 format (endpointSlicesExportMode: endpointslices-only): none of its backends can be used" : nil
        status.canarySeen = status.syncedCanaries ? false : nil
        if status.syncedCanaries {
            try await waitForCanary(KVStoreKeys.syncedCanary(cluster: cluster, prefix: KVStoreKeys.servicesRoot(cached: cached)))
            status.canarySeen = true
        }
        let prefix = KVStoreKeys.servicesPrefix(cluster: cluster, cached: cached)
        let listed = try await store.range(prefix, prefix: true, revision: 0)
        guard listed.revision >= 0, listed.revision < Int64.max else {
            throw RemoteClusterError("the store of \(cluster) answered revision \(listed.revision), outside 0 to \(Int64.max - 1)")
        }
        // MCS-API exports, when the remote has them: the ServiceImport's view and its conflicts.
        let exportsPrefix = config?.capabilities.serviceExportsEnabled == true ? KVStoreKeys.serviceExportsPrefix(cluster: cluster, cached: cached) : nil
        var listedExports: RangeResult?
        if let exportsPrefix { listedExports = try await store.range(exportsPrefix, prefix: true, revision: 0) }
        if let listedExports, !(0..<Int64.max).contains(listedExports.revision) {
            throw RemoteClusterError("the store of \(cluster) answered revision \(listedExports.revision), outside 0 to \(Int64.max - 1)")
        }
        cache.beginResync()
        for kv in listed.kvs { put(kv) }
        for kv in listedExports?.kvs ?? [] { put(kv) }
        cache.finishResync()
        status.connected = true
        status.lastSync = Date()
        status.lastError = nil
        connected()
        await onChange(cache)
        // A watch over a dead path (a partition, a host gone) sees no error until TCP gives up,
        // which can take hours; a cheap read every `livenessInterval` notices within seconds.
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { [store, cluster, livenessInterval, clock] in
                while true {
                    try await clock.sleep(for: livenessInterval)
                    do {
                        _ = try await store.range(KVStoreKeys.clusterConfig(cluster: cluster), prefix: false, revision: 0)
                    } catch is CancellationError {
                        throw CancellationError()
                    } catch {
                        throw RemoteClusterError("the store of \(cluster) stopped answering: \(error)")
                    }
                }
            }
            tasks.addTask { try await self.follow(prefix: prefix, from: listed.revision + 1) }
            if let exportsPrefix, let listedExports {
                tasks.addTask { try await self.follow(prefix: exportsPrefix, from: listedExports.revision + 1) }
            }
            defer { tasks.cancelAll() }
            try await tasks.next()
        }
        throw RemoteClusterError("watch of \(cluster) ended")
    }

    /// Applies the watch from `revision` until it fails.
    private func follow(prefix: String, from revision: Int64) async throws {
        for try await batch in store.watch(prefix: prefix, startRevision: revision) {
            guard !batch.events.isEmpty else { continue }
            for event in batch.events {
                switch event {
                case .put(let kv): put(kv)
                case .delete(let kv): cache.delete(key: kv.key)
                }
            }
            status.lastSync = Date()
            await onChange(cache)
        }
        throw RemoteClusterError("watch of \(cluster) ended")
    }

    /// The remote's cluster config, checked (ID, `maxConnectedClusters`). A missing one is a
    /// failure, retried with what is cached kept: a store that restarted empty has none until
    /// its writer is back, and listing it then would drop every backend.
    private func checkConfig() async throws -> ClusterConfig? {
        let key = KVStoreKeys.clusterConfig(cluster: cluster)
        guard let value = try await store.range(key, prefix: false, revision: 0).kvs.first?.value else {
            throw RemoteClusterError("cluster \(cluster) has no \(key) (its store is new or was emptied): waiting for it")
        }
        let (config, id) = try ClusterConfig.decodeValidated(value, cluster: cluster, localMaximum: maxConnectedClusters)
        guard id == clusterID else {
            throw RemoteClusterError("cluster \(cluster) has ID \(id) in its store, but is configured with ID \(clusterID)")
        }
        return config
    }

    /// Returns once `key` exists, reading it every `canaryInterval`; what is cached stays
    /// meanwhile. The store must keep answering (liveness as for the watch).
    private func waitForCanary(_ key: String) async throws {
        var logged = false
        while try await store.range(key, prefix: false, revision: 0).kvs.isEmpty {
            if !logged {
                logger.info("waiting for the remote's synced canary before using its services", metadata: ["cluster": "\(cluster)", "key": "\(key)"])
                logged = true
            }
            status.lastError = "waiting for \(key): the remote has not finished uploading its services"
            try await clock.sleep(for: canaryInterval)
        }
    }

    /// Caches one entry; an invalid one is logged once, naming the key and the reason.
    private func put(_ kv: KeyValue) {
        if let invalid = cache.put(key: kv.key, value: kv.value) {
            logger.warning("invalid remote entry skipped; its backends are no longer routed", metadata: [
                "cluster": "\(cluster)", "key": "\(invalid.key)", "reason": "\(invalid.reason)",
            ])
        }
    }
}

public struct RemoteClusterError: Error, Hashable, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

