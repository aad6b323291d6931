import Foundation
import InterlinkAgent
import InterlinkMesh
import Testing

/// etcd with mutual TLS, as production clusters run it: the client, an exporting agent
/// (`--kvstore-*-file`) and a following agent (Cilium's cluster file with TLS keys).
@Suite(.serialized, .timeLimit(.minutes(5)), .enabled(if: EtcdServer.isAvailable && TLSFixture.isAvailable, "needs etcd and openssl (apt-get install -y etcd-server openssl; .ci/run does it)"))
struct MeshTLSTests {
    @Test("mutual TLS: with the client certificate it works; without it the store is refused")
    func clientCertificates() async throws {
        let tls = try TLSFixture()
        defer { tls.remove() }
        let etcd = try await EtcdServer(tls: tls)
        defer { etcd.stop() }
        let client = try EtcdClient(endpoints: [etcd.clientURL], tls: tls.clientFiles, requestTimeout: .seconds(10))
        try await client.put("tls/k", value: [1])
        #expect(try await client.range("tls/k").kvs.count == 1)
        await client.shutdown()
        let anonymous = try EtcdClient(endpoints: [etcd.clientURL], tls: EtcdTLSFiles(trustedCAFile: tls.caCert, certFile: nil, keyFile: nil), requestTimeout: .seconds(10))
        await #expect(throws: KVStoreError.self) { try await anonymous.range("tls/k") }
        await anonymous.shutdown()
    }

    @Test("an agent exports into a TLS etcd, and another agent follows it through a cluster file with TLS keys; both stop cleanly")
    func agentsOverTLS() async throws {
        let tls = try TLSFixture()
        defer { tls.remove() }
        let mesh = try await Mesh.make(.embedded)
        let secure = try await EtcdServer(tls: tls)
        try mesh.east.addService("spread", port: 8031, annotations: ClusterMeshEndToEndTests.global)
        try mesh.west.addService("spread", port: 8031, annotations: ClusterMeshEndToEndTests.global)
        mesh.east.extraArguments = [
            "--kvstore", "etcd", "--kvstore-endpoints", secure.clientURL, "--kvstore-trusted-ca-file", tls.caCert,
            "--kvstore-cert-file", tls.clientCert, "--kvstore-key-file", tls.clientKey,
        ]
        do {
            try mesh.east.startAgent()
            try mesh.west.startAgent()
            #expect(await mesh.east.waitHealthy())
            #expect(await mesh.west.waitHealthy())
            try """
                endpoints:
                  - \(secure.clientURL)
                trusted-ca-file: \(tls.caCert)
                cert-file: \(tls.clientCert)
                key-file: \(tls.clientKey)
                """.write(to: mesh.west.meshDir.appendingPathComponent("east"), atomically: true, encoding: .utf8)
            #expect(await waitUntil(.seconds(15)) {
                (try? await mesh.west.clusters().remotes.first { $0.name == "east" }).map { $0.connected && $0.backends == 2 } ?? false
            })
            let tally = try await tallyBackends(mesh.west.frontend(8031), 120)
            #expect(MeshCluster.clusters(of: tally) == ["east", "west"], "\(tally)")
        } catch {
            await mesh.shutdown()
            secure.stop()
            throw error
        }
        #expect(await mesh.east.shutdown() == 0, "the agent using the TLS etcd stops cleanly on SIGTERM")
        #expect(await mesh.west.shutdown() == 0, "the agent following it over TLS too")
        await mesh.shutdown()
        secure.stop()
    }
}
