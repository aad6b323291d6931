import Foundation
import InterlinkAPI
import InterlinkAgent
import InterlinkMesh
import Testing

/// What a user sees when mutual TLS between two clusters is misconfigured: `interlink status`
/// and the agent's log say which certificate was refused and why, the agent keeps retrying, and
/// once the certificate is fixed (in the cluster file, or on the store's side with no change on
/// the follower) it connects. East serves its store over mutual TLS with certificates from
/// `interlink certs`; west follows it.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct MeshTLSFailureTests {
    struct Fixture {
        let east: MeshCluster
        let west: MeshCluster
        let root: URL
        let other: URL
        let served: URL

        var clusterFile: URL { west.meshDir.appendingPathComponent("east") }

        func follow(ca: String, cert: String?, key: String?) throws {
            var text = "endpoints:\n  - \(east.storeURL)\ntrusted-ca-file: \(ca)\n"
            if let cert, let key { text += "cert-file: \(cert)\nkey-file: \(key)\n" }
            try text.write(to: clusterFile, atomically: true, encoding: .utf8)
        }

        /// East's remote entry in west's /v1/clusters once its error contains `phrase`.
        func waitForError(_ phrase: String) async -> ClustersDocument.Remote? {
            var seen: ClustersDocument.Remote?
            let found = await waitUntil(.seconds(20)) {
                seen = try? await west.clusters().remotes.first { $0.name == "east" }
                return seen.map { !$0.connected && ($0.lastError ?? "").contains(phrase) } ?? false
            }
            return found ? seen : nil
        }

        func connected() async -> Bool {
            await waitUntil(.seconds(30)) {
                (try? await west.clusters().remotes.first { $0.name == "east" }).map { $0.connected && $0.backends == 2 } ?? false
            }
        }
    }

    /// Installs `name`'s server certificate and key into the directory east serves from (renamed
    /// into place, as a rotation would); east re-reads them within 10 s.
    static func serve(_ source: URL, in served: URL) throws {
        for file in ["server.crt", "server.key"] {
            let staged = served.appendingPathComponent(".\(file).new")
            try? FileManager.default.removeItem(at: staged)
            try FileManager.default.copyItem(at: source.appendingPathComponent(file), to: staged)
            guard rename(staged.path, served.appendingPathComponent(file).path) == 0 else { throw POSIXError(.EIO) }
        }
    }

    @Test("a server name that does not match, then fixed on east's side: west retries and connects; then a wrong CA, no client certificate, an expired one, each explained in interlink status and the log")
    func failuresAreExplainedAndRetried() async throws {
        let backendPort = try await freePort()
        let east = try await MeshCluster(name: "east", id: 1, subnet: 80, kind: .embedded, backendPort: backendPort)
        let west = try await MeshCluster(name: "west", id: 2, subnet: 81, kind: .embedded, backendPort: backendPort)
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("interlink-tls-failures-\(UUID().uuidString)")
        let fixture = Fixture(east: east, west: west, root: base.appendingPathComponent("mesh"), other: base.appendingPathComponent("other"),
                              served: base.appendingPathComponent("served"))
        defer { try? FileManager.default.removeItem(at: base) }
        do {
            let eastDir = fixture.root.appendingPathComponent("east")
            // A certificate for the wrong address (127.0.80.2), kept aside, then the right one.
            try await Mesh.interlink(["certs", "init", "--dir", fixture.root.path])
            try await Mesh.interlink(["certs", "issue", "--dir", fixture.root.path, "--cluster", "east", "--ip", "127.0.80.2"])
            let wrongName = base.appendingPathComponent("wrong-name")
            try FileManager.default.moveItem(at: eastDir, to: wrongName)
            try await Mesh.interlink(["certs", "issue", "--dir", fixture.root.path, "--cluster", "east", "--ip", "127.0.80.1"])
            try await Mesh.interlink(["certs", "init", "--dir", fixture.other.path])
            try await Mesh.interlink(["certs", "issue", "--dir", fixture.other.path, "--cluster", "stranger"])
            try FileManager.default.createDirectory(at: fixture.served, withIntermediateDirectories: true)
            try Self.serve(wrongName, in: fixture.served)

            east.tlsDir = eastDir  // for storeURL (https); the files served are given below
            east.extraArguments = [
                "--mesh-cert-file", fixture.served.appendingPathComponent("server.crt").path,
                "--mesh-key-file", fixture.served.appendingPathComponent("server.key").path,
                "--mesh-trusted-ca-file", eastDir.appendingPathComponent("ca.crt").path,
            ]
            for cluster in [east, west] { try cluster.addService("echo", port: 8080, annotations: ClusterMeshEndToEndTests.global) }
            west.logLevel = "warning"
            try east.startAgent()
            try west.startAgent()
            for cluster in [east, west] { #expect(await cluster.waitHealthy()) }

            let ca = eastDir.appendingPathComponent("ca.crt").path
            let client = (eastDir.appendingPathComponent("client.crt").path, eastDir.appendingPathComponent("client.key").path)
            try fixture.follow(ca: ca, cert: client.0, key: client.1)
            let mismatch = await fixture.waitForError("is for east.mesh.cilium.io, localhost, 127.0.80.2, not 127.0.80.1")
            #expect(mismatch != nil, "the name mismatch is explained")
            #expect((mismatch?.failures ?? 0) >= 1)
            let status = try await Mesh.interlink(["status", "--api", west.apiURL])
            #expect(status.contains("not 127.0.80.1: reach the store at one of those, or issue its certificate with --ip/--dns 127.0.80.1"), "\(status)")

            // Fixed where it was wrong, on east: west's next attempt succeeds, its file unchanged.
            try Self.serve(eastDir, in: fixture.served)
            #expect(await fixture.connected(), "west retried and connected once east served the right certificate")

            try fixture.follow(ca: fixture.other.appendingPathComponent("ca.crt").path, cert: client.0, key: client.1)
            let wrongCA = await fixture.waitForError("which trusted-ca-file \(fixture.other.appendingPathComponent("ca.crt").path) does not hold")
            #expect(wrongCA != nil, "a wrong CA is explained")

            try fixture.follow(ca: ca, cert: nil, key: nil)
            #expect(await fixture.waitForError("the store requires a client certificate and this cluster file gives none") != nil)

            let authority = try MeshCertificateAuthority(
                certificatePEM: String(contentsOfFile: ca, encoding: .utf8),
                keyPEM: String(contentsOfFile: fixture.root.appendingPathComponent("ca.key").path, encoding: .utf8))
            let expired = try authority.issue(commonName: "remote", usage: .client, days: 1, now: Date().addingTimeInterval(-3 * 86400))
            let expiredCert = base.appendingPathComponent("expired.crt"), expiredKey = base.appendingPathComponent("expired.key")
            try expired.certificate.write(to: expiredCert, atomically: true, encoding: .utf8)
            try expired.key.write(to: expiredKey, atomically: true, encoding: .utf8)
            try fixture.follow(ca: ca, cert: expiredCert.path, key: expiredKey.path)
            #expect(await fixture.waitForError("the store refused this cluster's client certificate (cert-file \(expiredCert.path)): it expired on") != nil)

            let log = west.log?.text ?? ""
            for phrase in ["not 127.0.80.1", "does not hold", "requires a client certificate", "it expired on"] {
                #expect(log.contains(phrase), "west's log says \(phrase)")
            }

            try fixture.follow(ca: ca, cert: client.0, key: client.1)
            #expect(await fixture.connected(), "and with the right files again, west follows east")
        } catch {
            await east.shutdown()
            await west.shutdown()
            throw error
        }
        #expect(await east.shutdown() == 0)
        #expect(await west.shutdown() == 0)
    }
}
