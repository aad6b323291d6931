import Foundation
import InterlinkCore
import InterlinkMesh
import Testing

/// The seed scenario of DESIGN.md §1 across processes: three clusters (east, west, north), each
/// an `interlink agent` process with its own kvstore and two backends answering with
/// `<cluster>-b<n>`, joined with `interlink connect`. Every test runs once with the agents'
/// embedded stores and once with a real etcd per cluster.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct ClusterMeshEndToEndTests {
    static let fast = ["interlink.io/health-check-interval": "300ms"]
    static let global = fast.merging(["service.cilium.io/global": "true"]) { $1 }
    /// Health checks alone notice a dead backend within interval × fall + 1 s.
    static let failoverBound = Duration.milliseconds(300 * 3 + 1000)

    @Test("affinity none spreads over every backend of every cluster; local fails over with no error and comes back; remote prefers the others", arguments: StoreKind.allCases)
    func affinity(kind: StoreKind) async throws {
        try EtcdServer.require(for: kind)
        let mesh = try await Mesh.make(kind)
        for cluster in mesh.all {
            try cluster.addService("spread", port: 8001, annotations: Self.global.merging(["service.cilium.io/affinity": "none"]) { $1 })
            try cluster.addService("local", port: 8002, annotations: Self.global.merging(["service.cilium.io/affinity": "local"]) { $1 })
            try cluster.addService("remote", port: 8003, annotations: Self.global.merging(["service.cilium.io/affinity": "remote"]) { $1 })
        }
        do {
            try await mesh.start()

            // none: 600 connections from each cluster reach all six backends, each within ±40 % of 100.
            for cluster in mesh.all {
                let tally = try await tallyBackends(cluster.frontend(8001), 600)
                #expect(tally.count == 6, "\(cluster.name) reached \(tally)")
                #expect(tally.values.allSatisfy { (60...140).contains($0) }, "\(cluster.name): \(tally)")
            }

            // remote: east prefers west and north; local: east stays home.
            let remote = try await tallyBackends(mesh.east.frontend(8003), 60)
            #expect(MeshCluster.clusters(of: remote) == ["west", "north"], "\(remote)")
            #expect(try await tallyBackends(mesh.east.frontend(8002), 60).keys.allSatisfy { $0.hasPrefix("east-") })

            // east's backends die: not one failed connection, and after the bound all go remote.
            await mesh.east.stopBackends()
            let during = await hammer(mesh.east.frontend(8002), for: Self.failoverBound)
            #expect(during.failures == 0, "failed connections during the failover: \(during)")
            let after = try await tallyBackends(mesh.east.frontend(8002), 60)
            #expect(MeshCluster.clusters(of: after) == ["west", "north"], "\(after)")
            // The other clusters stop sending east's traffic once east exports the change.
            #expect(await waitUntil(.seconds(5)) {
                (try? await tallyBackends(mesh.west.frontend(8001), 30)).map { !MeshCluster.clusters(of: $0).contains("east") } ?? false
            })

            // Back: a local backend returns, and east is local again.
            try await mesh.east.startBackends()
            #expect(await waitUntil(.seconds(5)) {
                (try? await tallyBackends(mesh.east.frontend(8002), 20)).map { MeshCluster.clusters(of: $0) == ["east"] } ?? false
            })

            // remote with every remote backend down: east uses its own, with no error. The
            // remote service checks east's returned backends on its own schedule: once they
            // are up there too, not one connection may fail.
            #expect(await mesh.east.localBackendsUp(within: .seconds(5)))
            await mesh.west.stopBackends()
            await mesh.north.stopBackends()
            let fallback = await hammer(mesh.east.frontend(8003), for: Self.failoverBound)
            #expect(fallback.failures == 0, "\(fallback)")
            #expect(MeshCluster.clusters(of: try await tallyBackends(mesh.east.frontend(8003), 30)) == ["east"])
        } catch {
            await mesh.shutdown()
            throw error
        }
        #expect(await mesh.shutdown().isEmpty, "every agent stops cleanly on SIGTERM")
    }

    @Test("shared=false consumes but exports nothing; a service global in one cluster only stays local elsewhere; bad remote data is counted and skipped", arguments: StoreKind.allCases)
    func sharingAndBadRemotes(kind: StoreKind) async throws {
        try EtcdServer.require(for: kind)
        let mesh = try await Mesh.make(kind)
        for cluster in mesh.all {
            let shared = cluster.name == "east" ? "false" : "true"
            try cluster.addService("consumer", port: 8011, annotations: Self.global.merging(["service.cilium.io/shared": shared]) { $1 })
            try cluster.addService("solo", port: 8012, annotations: cluster.name == "east" ? Self.global : Self.fast)
        }
        // A fourth "cluster" whose store the test writes by hand: one good entry among bad ones.
        let rogueBackend = try await TestBackend.start(name: "rogue-b1", at: SocketEndpoint("127.0.73.11:\(mesh.east.backendPort)")!)
        let rogue = try await RogueStore(kind)
        do {
            try await rogue.publish(backend: rogueBackend.endpoint)
            try "endpoints:\n  - \(rogue.url)\n".write(to: mesh.east.meshDir.appendingPathComponent("rogue"), atomically: true, encoding: .utf8)
            try await mesh.start()

            // east (shared=false) uses everyone's backends, and the rogue's one good entry.
            let eastTally = try await tallyBackends(mesh.east.frontend(8011), 300)
            #expect(MeshCluster.clusters(of: eastTally) == ["east", "west", "north", "rogue"], "\(eastTally)")
            // west and north never receive east's backends.
            for cluster in [mesh.west, mesh.north] {
                let tally = try await tallyBackends(cluster.frontend(8011), 200)
                #expect(MeshCluster.clusters(of: tally) == ["west", "north"], "\(cluster.name): \(tally)")
            }
            // solo is global in east only: west and north keep to their own backends; east has nobody to share with.
            #expect(MeshCluster.clusters(of: try await tallyBackends(mesh.west.frontend(8012), 40)) == ["west"])
            #expect(MeshCluster.clusters(of: try await tallyBackends(mesh.east.frontend(8012), 40)) == ["east"])

            // The rogue's bad entries were counted and skipped; its good one is in use.
            let status = try #require(try await mesh.east.clusters().remotes.first { $0.name == "rogue" })
            #expect(status.connected && status.services == 1 && status.invalidEntries == 3, "\(status)")
            // A late bad write does not disturb what works.
            try await rogue.put("cilium/state/services/v1/rogue/default/late", Array("{not json".utf8))
            #expect(await waitUntil(.seconds(5)) { (try? await mesh.east.clusters().remotes.first { $0.name == "rogue" }?.invalidEntries) == 4 })
            #expect(MeshCluster.clusters(of: try await tallyBackends(mesh.east.frontend(8011), 200)).contains("rogue"))

            // Refused remotes: this cluster's own name, and an ID another remote already has.
            try "endpoints:\n  - \(mesh.west.storeURL)\n".write(to: mesh.east.meshDir.appendingPathComponent("east"), atomically: true, encoding: .utf8)
            try await rogue.put("cilium/cluster-config/twin", Array(#"{"id":2}"#.utf8))
            try "endpoints:\n  - \(rogue.url)\n".write(to: mesh.east.meshDir.appendingPathComponent("twin"), atomically: true, encoding: .utf8)
            #expect(await waitUntil(.seconds(5)) {
                let remotes = (try? await mesh.east.clusters().remotes) ?? []
                let own = remotes.first { $0.name == "east" }?.problem ?? ""
                let twin = remotes.first { $0.name == "twin" }?.lastError ?? ""
                return own.contains("own name") && twin.contains("already used by connected cluster west")
            })
            #expect(try await mesh.east.clusters().remotes.filter(\.connected).map(\.name).sorted() == ["north", "rogue", "west"])
        } catch {
            await rogueBackend.stop()
            await rogue.stop()
            await mesh.shutdown()
            throw error
        }
        await rogueBackend.stop()
        await rogue.stop()
        #expect(await mesh.shutdown().isEmpty, "every agent stops cleanly on SIGTERM")
    }

    @Test("disconnect drains everywhere; a crashed cluster stays cached (ejected on dial failure), or goes after the cache TTL; its restart resyncs", arguments: StoreKind.allCases)
    func lifecycle(kind: StoreKind) async throws {
        try EtcdServer.require(for: kind)
        let mesh = try await Mesh.make(kind)
        for cluster in mesh.all {
            try cluster.addService("spread", port: 8021, annotations: Self.global)
        }
        mesh.east.extraArguments = ["--clustermesh-cache-ttl", "2s"]
        do {
            try await mesh.start()
            for cluster in mesh.all {
                #expect(MeshCluster.clusters(of: try await tallyBackends(cluster.frontend(8021), 120)) == ["east", "west", "north"])
            }

            // Disconnect north from the others: its backends leave east and west, and theirs leave north.
            try await Mesh.interlink(["disconnect", mesh.north.apiURL, mesh.east.apiURL])
            try await Mesh.interlink(["disconnect", mesh.north.apiURL, mesh.west.apiURL])
            for cluster in [mesh.east, mesh.west] {
                #expect(await waitUntil(.seconds(10)) {
                    (try? await tallyBackends(cluster.frontend(8021), 60)).map { MeshCluster.clusters(of: $0) == ["east", "west"] } ?? false
                }, "\(cluster.name) drained north")
            }
            #expect(MeshCluster.clusters(of: try await tallyBackends(mesh.north.frontend(8021), 60)) == ["north"])
            try await Mesh.interlink(["connect", "--timeout", "20s"] + mesh.all.map(\.apiURL))

            // North crashes (agent killed; in etcd mode its etcd too) and its backends die.
            await mesh.north.crash()
            await mesh.north.stopBackends()
            // west has no cache TTL: north's backends stay listed, and failed dials eject them
            // with no client error.
            let westDuring = await hammer(mesh.west.frontend(8021), for: .seconds(1))
            #expect(westDuring.failures == 0, "\(westDuring)")
            #expect(!MeshCluster.clusters(of: try await tallyBackends(mesh.west.frontend(8021), 60)).contains("north"))
            let westView = try await mesh.west.backends()
            #expect(westView.filter { $0.cluster == "north" }.count == 2, "north's backends are still cached in west")
            #expect(westView.filter { $0.cluster == "north" }.allSatisfy { !$0.eligible })
            // east has a 2 s cache TTL: north's backends go.
            #expect(await waitUntil(.seconds(8)) {
                ((try? await mesh.east.backends()) ?? []).allSatisfy { $0.cluster != "north" }
            })

            // North comes back: everyone resyncs, with each backend listed once.
            try await mesh.north.startBackends()
            try await mesh.north.restart()
            #expect(await mesh.north.waitHealthy())
            for cluster in [mesh.east, mesh.west] {
                #expect(await waitUntil(.seconds(15)) {
                    let backends = ((try? await cluster.backends()) ?? []).map(\.address)
                    return backends.count == 6 && Set(backends).count == 6
                }, "\(cluster.name) resynced north")
                #expect(await waitUntil(.seconds(15)) {
                    (try? await tallyBackends(cluster.frontend(8021), 90)).map { MeshCluster.clusters(of: $0) == ["east", "west", "north"] } ?? false
                }, "\(cluster.name) sends to north again")
            }
        } catch {
            await mesh.shutdown()
            throw error
        }
        #expect(await mesh.shutdown().isEmpty, "every agent stops cleanly on SIGTERM")
    }
}

/// A kvstore that the test fills by hand as a misbehaving cluster `rogue` (ID 9) would.
struct RogueStore {
    let url: String
    private let etcd: EtcdServer?
    private let embedded: EmbeddedStoreServer?
    private let client: EtcdClient

    init(_ kind: StoreKind) async throws {
        switch kind {
        case .etcd:
            etcd = try await EtcdServer()
            embedded = nil
        case .embedded:
            etcd = nil
            embedded = try await EmbeddedStoreServer(cluster: "rogue")
        }
        url = etcd?.clientURL ?? embedded!.clientURL
        client = try EtcdClient(endpoints: [url], requestTimeout: KVStoreConformanceTests.requestTimeout)
    }

    func put(_ key: String, _ value: [UInt8]) async throws { try await client.put(key, value: value) }

    /// The cluster config, one valid service, and three invalid entries.
    func publish(backend: SocketEndpoint) async throws {
        try await put("cilium/cluster-config/rogue", Array(#"{"id":9}"#.utf8))
        let good = """
            {"cluster":"rogue","clusterID":9,"namespace":"default","name":"consumer","includeExternal":true,"shared":true,\
            "backends":{"\(backend.ip)":{"tcp":{"Protocol":"TCP","Port":\(backend.port)}}},"frontends":{},"labels":{},"selector":{}}
            """
        try await put("cilium/state/services/v1/rogue/default/consumer", Array(good.utf8))
        let otherCluster = good.replacingOccurrences(of: #""cluster":"rogue""#, with: #""cluster":"elsewhere""#)
        try await put("cilium/state/services/v1/rogue/default/stolen", Array(otherCluster.utf8))
        try await put("cilium/state/services/v1/rogue/default/garbage", [0xff, 0x00, 0x13, 0x37])
        let badIP = good.replacingOccurrences(of: "\"\(backend.ip)\"", with: "\"300.1.2.3\"").replacingOccurrences(of: #""name":"consumer""#, with: #""name":"badip""#)
        try await put("cilium/state/services/v1/rogue/default/badip", Array(badIP.utf8))
    }

    func stop() async {
        etcd?.stop()
        await embedded?.stop()
    }
}
