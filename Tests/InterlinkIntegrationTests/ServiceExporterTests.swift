import Foundation
import InterlinkCore
import InterlinkMesh
import Logging
import Testing

/// The exporter writing Cilium's keys into a real etcd, read back as another cluster would.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct ServiceExporterTests {
    static let east = try! ClusterName("east")
    static let eastID = try! ClusterID(3)

    static func entry(_ name: String, backends: [String]) -> ClusterService {
        ClusterService(
            cluster: "east", namespace: "default", name: name, frontends: ["10.96.0.10": ["http": .init(port: 80)]],
            backends: Dictionary(uniqueKeysWithValues: backends.map { ($0, ["http": ClusterService.PortAddress(port: 8080)]) }),
            includeExternal: true, shared: true, clusterID: 3)
    }

    static func exporter(_ etcd: EtcdClient, ttl: Duration = .seconds(60)) -> ServiceExporter {
        var logger = Logger(label: "test-exporter")
        logger.logLevel = .error
        return ServiceExporter(store: etcd, cluster: east, clusterID: eastID, leaseTTL: ttl, logger: logger)
    }

    @Test("sync writes the cluster config, every service under a lease, then the synced canary; another cluster reads them back", arguments: StoreKind.allCases)
    func initialExport(kind: StoreKind) async throws {
        try await KVStoreConformanceTests.withStore(kind) { etcd, _ in
            let exporter = Self.exporter(etcd)
            try await exporter.sync([Self.entry("echo", backends: ["127.0.66.1", "127.0.66.2"]), Self.entry("web", backends: ["127.0.66.3"])])

            let config = try #require(try await etcd.range("cilium/cluster-config/east").kvs.first)
            #expect(try JSONDecoder().decode(ClusterConfig.self, from: Data(config.value)) == ClusterConfig(id: 3, capabilities: .init(serviceExportsEnabled: true)))
            let services = try await etcd.range(KVStoreKeys.servicesPrefix(cluster: Self.east), prefix: true)
            #expect(services.kvs.map(\.key) == ["cilium/state/services/v1/east/default/echo", "cilium/state/services/v1/east/default/web"])
            #expect(services.kvs.allSatisfy { $0.lease != 0 }, "written with a lease so that a dead exporter's keys expire")
            let echo = try ClusterService.decodeValidated(services.kvs[0].value, key: services.kvs[0].key, cluster: Self.east, clusterID: Self.eastID)
            #expect(echo.backends["http"]?.map(\.endpoint.description) == ["127.0.66.1:8080", "127.0.66.2:8080"])
            let canary = try await etcd.range(KVStoreKeys.syncedCanary(cluster: Self.east))
            #expect(canary.kvs.count == 1)
            #expect(canary.kvs[0].modRevision > services.kvs.map(\.modRevision).max()!, "the canary comes after the services")
        }
    }

    @Test("a service that stops being exported is deleted; an unchanged one is not rewritten", arguments: StoreKind.allCases)
    func updatesAndDeletes(kind: StoreKind) async throws {
        try await KVStoreConformanceTests.withStore(kind) { etcd, _ in
            let exporter = Self.exporter(etcd)
            try await exporter.sync([Self.entry("echo", backends: ["127.0.66.1"]), Self.entry("web", backends: ["127.0.66.3"])])
            let before = try await etcd.range("cilium/state/services/v1/east/default/echo").kvs[0].modRevision
            try await exporter.sync([Self.entry("echo", backends: ["127.0.66.1"])])
            #expect(try await etcd.range("cilium/state/services/v1/east/default/web").kvs.isEmpty)
            #expect(try await etcd.range("cilium/state/services/v1/east/default/echo").kvs[0].modRevision == before)
        }
    }

    @Test("two replicas with the same view converge: the second writes nothing", arguments: StoreKind.allCases)
    func replicasConverge(kind: StoreKind) async throws {
        try await KVStoreConformanceTests.withStore(kind) { etcd, _ in
            let services = [Self.entry("echo", backends: ["127.0.66.1", "127.0.66.2"])]
            try await Self.exporter(etcd).sync(services)
            let revision = try await etcd.range("cilium/state/services/v1/east/default/echo").kvs[0].modRevision
            try await Self.exporter(etcd).sync(services)
            #expect(try await etcd.range("cilium/state/services/v1/east/default/echo").kvs[0].modRevision == revision)
        }
    }

    @Test("renew repairs a key that went missing and survives an expired lease", arguments: StoreKind.allCases)
    func renewRepairs(kind: StoreKind) async throws {
        try await KVStoreConformanceTests.withStore(kind) { etcd, _ in
            let exporter = Self.exporter(etcd)
            try await exporter.sync([Self.entry("echo", backends: ["127.0.66.1"])])
            try await etcd.delete("cilium/state/services/v1/east/default/echo")
            try await exporter.renew()
            #expect(try await etcd.range("cilium/state/services/v1/east/default/echo").kvs.count == 1)
            // The lease disappears (as after a long partition): everything is written again.
            let lease = try await etcd.range("cilium/state/services/v1/east/default/echo").kvs[0].lease
            try await etcd.revokeLease(lease)
            try await exporter.renew()
            let after = try await etcd.range("cilium/state/services/v1/east/default/echo").kvs
            #expect(after.count == 1 && after[0].lease != lease)
            #expect(try await etcd.range(KVStoreKeys.syncedCanary(cluster: Self.east)).kvs.count == 1)
            #expect(try await etcd.range(KVStoreKeys.clusterConfig(cluster: Self.east)).kvs.count == 1)
        }
    }

    @Test("withdraw removes the cluster's services", arguments: StoreKind.allCases)
    func withdraw(kind: StoreKind) async throws {
        try await KVStoreConformanceTests.withStore(kind) { etcd, _ in
            let exporter = Self.exporter(etcd)
            try await exporter.sync([Self.entry("echo", backends: ["127.0.66.1"])])
            try await exporter.withdraw()
            #expect(try await etcd.range(KVStoreKeys.servicesPrefix(cluster: Self.east), prefix: true).kvs.isEmpty)
        }
    }
}
