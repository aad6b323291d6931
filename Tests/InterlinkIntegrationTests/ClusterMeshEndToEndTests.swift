import Foundation
import InterlinkCore
import Testing

/// Two clusters, each an `interlink agent` process with its own etcd and backends, connected
/// through `--clustermesh-config`: the seed scenario of DESIGN.md §1 across processes.
@Suite(.serialized, .enabled(if: EtcdServer.isAvailable, "etcd is not installed (apt-get install -y etcd-server; .ci/run does it)"))
struct ClusterMeshEndToEndTests {
    struct Cluster {
        var name: String
        var etcd: EtcdServer
        var manifest: TestManifest
        var backend: TestBackend
        var process: Process?
    }

    static func makeCluster(_ name: String, subnet: Int, affinity: String) async throws -> Cluster {
        let manifest = TestManifest(
            clusterIP: "127.0.\(subnet).10", port: try await freePort(), backendIPs: ["127.0.\(subnet).11"], backendPort: try await freePort(),
            annotations: [
                "service.cilium.io/global": "true", "service.cilium.io/affinity": affinity,
                "interlink.io/health-check-interval": "300ms",
            ])
        let backend = try await TestBackend.start(name: "\(name)-b1", at: manifest.backendEndpoints()[0])
        return Cluster(name: name, etcd: try await EtcdServer(), manifest: manifest, backend: backend)
    }

    static func startAgent(_ cluster: inout Cluster, id: Int, remote: Cluster) async throws {
        let meshDir = FileManager.default.temporaryDirectory.appendingPathComponent("interlink-mesh-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: meshDir, withIntermediateDirectories: true)
        try "endpoints:\n  - \(remote.etcd.clientURL)\n".write(to: meshDir.appendingPathComponent(remote.name), atomically: true, encoding: .utf8)
        let (process, _, _) = try InterlinkProcess.start([
            "agent", "--cluster-name", cluster.name, "--cluster-id", "\(id)", "--manifests", try cluster.manifest.write(),
            "--api-listen", "\(cluster.manifest.clusterIP):\(try await freePort())",
            "--kvstore", "etcd", "--kvstore-endpoints", cluster.etcd.clientURL, "--clustermesh-config", meshDir.path,
            "--log-level", "error",
        ])
        cluster.process = process
    }

    @Test("east (affinity local) fails over to west with no failed connection and comes back; west (none) spreads over both")
    func failoverAcrossClusters() async throws {
        var east = try await Self.makeCluster("east", subnet: 60, affinity: "local")
        var west = try await Self.makeCluster("west", subnet: 61, affinity: "none")
        try await Self.startAgent(&east, id: 1, remote: west)
        try await Self.startAgent(&west, id: 2, remote: east)
        defer {
            east.process?.terminate(); west.process?.terminate()
            east.etcd.stop(); west.etcd.stop()
        }

        // West spreads over both clusters once it has synced east's export.
        let spread = await waitUntil(.seconds(20)) {
            (try? await tallyBackends(west.manifest.frontend, 20))?.keys.sorted() == ["east-b1", "west-b1"]
        }
        #expect(spread, "west's affinity none reaches both clusters")

        // East stays local while its backend is healthy.
        #expect(try await tallyBackends(east.manifest.frontend, 40) == ["east-b1": 40])

        // East's backend dies: every connection still succeeds, on west.
        await east.backend.stop()
        #expect(try await tallyBackends(east.manifest.frontend, 40) == ["west-b1": 40])
        // West stops using east once east's export drops its dead backend (health checks, 3 × 300 ms).
        let westLocal = await waitUntil(.seconds(5)) { (try? await tallyBackends(west.manifest.frontend, 20)) == ["west-b1": 20] }
        #expect(westLocal, "east exported the health change")

        // Back: east returns to local.
        try await east.backend.start()
        let back = await waitUntil(.seconds(5)) { (try? await tallyBackends(east.manifest.frontend, 20)) == ["east-b1": 20] }
        #expect(back)
        await east.backend.stop()
        await west.backend.stop()
    }
}
