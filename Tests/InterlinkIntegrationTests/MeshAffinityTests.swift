import Foundation
import InterlinkAgent
import InterlinkCore
import InterlinkMesh
import Testing

/// Service affinity over the real data plane: a local backend from the manifests and a remote
/// backend from another cluster's export (given to the routing writer as a remote watcher would).
@Suite(.serialized, .timeLimit(.minutes(5)))
struct MeshAffinityTests {
    static let west = try! ClusterName("west")

    struct Setup {
        var manifest: TestManifest
        var local: TestBackend
        var remote: TestBackend
        var agent: RunningAgent
        var westCache: RemoteServiceCache
    }

    static func setUp(subnet: Int, annotations: [String: String]) async throws -> Setup {
        let port = try await freePort()
        let manifest = TestManifest(
            clusterIP: "127.0.\(subnet).10", port: try await freePort(), backendIPs: ["127.0.\(subnet).11"], backendPort: port,
            annotations: annotations.merging([
                ServiceAnnotations.healthCheckInterval: "200ms", ServiceAnnotations.healthCheckRise: "2",
            ]) { first, _ in first })
        let local = try await TestBackend.start(name: "local", at: manifest.backendEndpoints()[0])
        let remoteEndpoint = SocketEndpoint(ip: IPAddress("127.0.\(subnet).21")!, port: port)
        let remote = try await TestBackend.start(name: "remote", at: remoteEndpoint)
        let agent = try await RunningAgent(manifestsPath: try manifest.write())
        var cache = RemoteServiceCache(cluster: west, clusterID: try ClusterID(2))
        cache.put(key: "cilium/state/services/v1/west/default/echo", value: Array("""
            {"cluster":"west","clusterID":2,"namespace":"default","name":"echo","includeExternal":true,"shared":true,\
            "backends":{"\(remoteEndpoint.ip)":{"tcp":{"Protocol":"TCP","Port":\(port)}}},"frontends":{}}
            """.utf8))
        #expect(cache.services.count == 1)
        agent.agent.writer.updateRemote(cache)
        await agent.agent.routes.settle()
        return Setup(manifest: manifest, local: local, remote: remote, agent: agent, westCache: cache)
    }

    static func tearDown(_ setup: Setup) async throws {
        try await setup.agent.stop()
        await setup.local.stop()
        await setup.remote.stop()
    }

    @Test("affinity none: local and remote backends share the traffic")
    func affinityNone() async throws {
        let setup = try await Self.setUp(subnet: 41, annotations: [ServiceAnnotations.global: "true", ServiceAnnotations.affinity: "none"])
        let names = try await tallyBackends(setup.manifest.frontend, 200)
        #expect((names["local"] ?? 0) > 60 && (names["remote"] ?? 0) > 60, "\(names)")
        try await Self.tearDown(setup)
    }

    @Test("affinity local: 100 % local; local backend down: 100 % remote with no failed connection; back: local again")
    func affinityLocalFailover() async throws {
        let setup = try await Self.setUp(subnet: 42, annotations: [ServiceAnnotations.global: "true", ServiceAnnotations.affinity: "local"])
        #expect(try await tallyBackends(setup.manifest.frontend, 60) == ["local": 60])
        await setup.local.stop()
        #expect(try await tallyBackends(setup.manifest.frontend, 60) == ["remote": 60], "every connection succeeds, on the remote cluster")
        try await setup.local.start()
        let back = await setup.agent.waitFor(timeout: .seconds(5)) { await setup.agent.backend(setup.local.endpoint)?.health == "up" }
        #expect(back != nil)
        #expect(try await tallyBackends(setup.manifest.frontend, 60) == ["local": 60])
        try await Self.tearDown(setup)
    }

    @Test("affinity remote: 100 % remote; remote backend dead: ejected, local takes over")
    func affinityRemote() async throws {
        let setup = try await Self.setUp(subnet: 43, annotations: [ServiceAnnotations.global: "true", ServiceAnnotations.affinity: "remote"])
        #expect(try await tallyBackends(setup.manifest.frontend, 60) == ["remote": 60])
        await setup.remote.stop()
        #expect(try await tallyBackends(setup.manifest.frontend, 60) == ["local": 60])
        let ejected = await setup.agent.backend(setup.remote.endpoint)
        #expect(ejected?.health == "down" && ejected?.cluster == "west")
        try await Self.tearDown(setup)
    }

    @Test("a service that is not global here ignores remote backends; a removed cluster is drained")
    func notGlobalAndDrain() async throws {
        let setup = try await Self.setUp(subnet: 44, annotations: [:])
        #expect(try await tallyBackends(setup.manifest.frontend, 60) == ["local": 60])
        #expect(await setup.agent.backend(setup.remote.endpoint)?.reason == "remote backend of a service that is not global here")
        try await Self.tearDown(setup)

        let global = try await Self.setUp(subnet: 45, annotations: [ServiceAnnotations.global: "true"])
        global.agent.agent.writer.removeRemote(Self.west)
        #expect(await global.agent.backend(global.remote.endpoint) == nil, "the disconnected cluster's backend is gone")
        // Remote changes are published within the coalescing window (50 ms when idle); the deadline
        // is generous because CI machines run many tests at once (latency is measured in the benchmark).
        #expect(await waitUntil(.seconds(5)) { (try? await tallyBackends(global.manifest.frontend, 20)) == ["local": 20] })
        try await Self.tearDown(global)
    }
}
