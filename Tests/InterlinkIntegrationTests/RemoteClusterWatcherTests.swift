import Foundation
import InterlinkCore
import InterlinkMesh
import Logging
import NIOConcurrencyHelpers
import Testing

/// A watcher in one cluster following another cluster's real etcd, fed by that cluster's exporter.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct RemoteClusterWatcherTests {
    static let east = try! ClusterName("east")
    static let eastID = try! ClusterID(3)

    final class Seen: Sendable {
        let latest = NIOLockedValueBox<RemoteServiceCache?>(nil)
        let changes = NIOLockedValueBox(0)

        func backends(_ name: String) -> [String] {
            latest.withLockedValue { cache in
                cache?.services[ServiceName(namespace: "default", name: name)]?.backends["http"]?.map(\.endpoint.description).sorted() ?? []
            }
        }

        var serviceNames: [String] { latest.withLockedValue { $0?.services.keys.map(\.name).sorted() ?? [] } }
    }

    static func start(_ store: EtcdClient, id: ClusterID = eastID, cacheTTL: Duration? = nil) -> (RemoteClusterWatcher, Seen, Task<Void, Never>) {
        var logger = Logger(label: "test-watcher")
        logger.logLevel = .critical
        let seen = Seen()
        let watcher = RemoteClusterWatcher(cluster: east, clusterID: id, store: store, cacheTTL: cacheTTL, logger: logger) { cache in
            seen.latest.withLockedValue { $0 = cache }
            seen.changes.withLockedValue { $0 += 1 }
        }
        return (watcher, seen, Task { await watcher.run() })
    }

    @Test("lists, then follows updates and deletes; invalid entries are counted and skipped", arguments: StoreKind.allCases)
    func followsRemoteCluster(kind: StoreKind) async throws {
        try await KVStoreConformanceTests.withStore(kind) { etcd, _ in
            let exporter = ServiceExporterTests.exporter(etcd)
            try await exporter.sync([ServiceExporterTests.entry("echo", backends: ["127.0.66.1"]), ServiceExporterTests.entry("web", backends: ["127.0.66.3"])])
            let (watcher, seen, task) = Self.start(etcd)
            defer { task.cancel() }
            #expect(await waitUntil(.seconds(15)) { seen.serviceNames == ["echo", "web"] })

            try await exporter.sync([ServiceExporterTests.entry("echo", backends: ["127.0.66.1", "127.0.66.2"])])
            #expect(await waitUntil(.seconds(15)) { seen.backends("echo") == ["127.0.66.1:8080", "127.0.66.2:8080"] && seen.serviceNames == ["echo"] })

            try await etcd.put("cilium/state/services/v1/east/default/bad", value: Array("garbage".utf8))
            try await etcd.put("cilium/state/services/v1/east/default/other", value: Array(#"{"cluster":"west","clusterID":3,"namespace":"default","name":"other","includeExternal":true,"shared":true,"backends":{},"frontends":{}}"#.utf8))
            #expect(await waitUntil(.seconds(15)) { await watcher.cache.invalidEntries == 2 })
            #expect(seen.serviceNames == ["echo"], "the valid entries are untouched")
            #expect(await watcher.status.connected)
        }
    }

    @Test("a cluster whose store reports another ID is refused, with the reason in the status", arguments: StoreKind.allCases)
    func wrongClusterID(kind: StoreKind) async throws {
        try await KVStoreConformanceTests.withStore(kind) { etcd, _ in
            try await ServiceExporterTests.exporter(etcd).sync([ServiceExporterTests.entry("echo", backends: ["127.0.66.1"])])
            let (watcher, seen, task) = Self.start(etcd, id: try ClusterID(9))
            defer { task.cancel() }
            #expect(await waitUntil(.seconds(15)) { await watcher.status.lastError?.contains("has ID 3 in its store") == true })
            #expect(seen.serviceNames.isEmpty)
        }
    }

    @Test("an unreachable cluster keeps its cached services, unless a cache TTL is set")
    func unreachableKeepsCacheUntilTTL() async throws {
        let server = try await EmbeddedStoreServer()
        let etcd = try EtcdClient(endpoints: [server.clientURL], requestTimeout: .seconds(10))
        try await ServiceExporterTests.exporter(etcd).sync([ServiceExporterTests.entry("echo", backends: ["127.0.66.1"])])
        let (keeper, keeperSeen, keeperTask) = Self.start(etcd)
        let (expirer, expirerSeen, expirerTask) = Self.start(etcd, cacheTTL: .seconds(1))
        defer { keeperTask.cancel(); expirerTask.cancel() }
        #expect(await waitUntil(.seconds(15)) { keeperSeen.serviceNames == ["echo"] && expirerSeen.serviceNames == ["echo"] })

        await server.stop()
        #expect(await waitUntil(.seconds(10)) { expirerSeen.serviceNames.isEmpty }, "dropped after the 1 s cache TTL")
        #expect(keeperSeen.serviceNames == ["echo"], "without a TTL the cached backends stay")
        #expect(await keeper.status.connected == false)
        #expect(await expirer.status.failures > 0)
    }
}
