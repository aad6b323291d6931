import Foundation
import InterlinkAPI
import InterlinkAgent
import InterlinkMesh
import Testing

/// A real etcd set up as Cilium's clustermesh-apiserver sets up its own: TLS with
/// `--client-cert-auth`, etcd auth enabled, a `root` user, and a user `remote` without a
/// password (etcd takes it from the client certificate's CN) whose role may only read
/// `cilium/state/`, `cilium/cluster-config/east`, `cilium/synced/east/` and `cilium/.heartbeat`.
/// East's agent exports into it as `root`; west follows it with a client certificate of CN
/// `remote`, north with a user and password (`username:`/`password:` in its cluster file).
@Suite(.serialized, .timeLimit(.minutes(5)), .enabled(if: EtcdServer.isAvailable && TLSFixture.isAvailable && Etcdctl.isAvailable,
    "needs etcd, etcdctl and openssl (apt-get install -y etcd-server etcd-client openssl; .ci/run does it)"))
struct ClusterMeshApiserverEtcdTests {
    /// The users, roles and permissions, made with etcdctl as an operator would, then auth enabled.
    /// (`cilium/cache/` too: a KVStoreMesh cache is read the same way.)
    static func configureAuth(_ etcdctl: Etcdctl, cluster: String = "east") async throws {
        try await etcdctl.succeed(["user", "add", "root", "--no-password"])
        try await etcdctl.succeed(["user", "grant-role", "root", "root"])
        try await etcdctl.succeed(["role", "add", "remote"])
        try await etcdctl.succeed(["role", "grant-permission", "remote", "read", "--prefix=true", "cilium/state/"])
        try await etcdctl.succeed(["role", "grant-permission", "remote", "read", "--prefix=true", "cilium/cache/"])
        try await etcdctl.succeed(["role", "grant-permission", "remote", "read", "cilium/cluster-config/\(cluster)"])
        try await etcdctl.succeed(["role", "grant-permission", "remote", "read", "--prefix=true", "cilium/synced/\(cluster)/"])
        try await etcdctl.succeed(["role", "grant-permission", "remote", "read", "cilium/.heartbeat"])
        try await etcdctl.succeed(["user", "add", "remote", "--no-password"])
        try await etcdctl.succeed(["user", "grant-role", "remote", "remote"])
        try await etcdctl.succeed(["user", "add", "north-reader", "--new-user-password", "s3cret pass"])
        try await etcdctl.succeed(["user", "grant-role", "north-reader", "remote"])
        try await etcdctl.succeed(["auth", "enable"])
    }

    @Test("east exports into it as root; west follows it with CN remote, north with a password; the remote role reads nothing else")
    func followWithRemoteUser() async throws {
        let tls = try TLSFixture(users: ["root", "remote"])
        defer { tls.remove() }
        let etcd = try await EtcdServer(tls: tls)
        let backendPort = try await freePort()
        let east = try await MeshCluster(name: "east", id: 1, subnet: 77, kind: .embedded, backendPort: backendPort)
        let west = try await MeshCluster(name: "west", id: 2, subnet: 78, kind: .embedded, backendPort: backendPort)
        let north = try await MeshCluster(name: "north", id: 3, subnet: 79, kind: .embedded, backendPort: backendPort)
        func stopAll() async -> [Int32?] {
            let statuses = [await east.shutdown(), await west.shutdown(), await north.shutdown()]
            etcd.stop()
            return statuses
        }
        do {
            try await Self.configureAuth(Etcdctl(endpoint: etcd.clientURL, files: tls.clientFiles))
            let root = Etcdctl(endpoint: etcd.clientURL, files: tls.files(of: "root"))
            let remote = Etcdctl(endpoint: etcd.clientURL, files: tls.files(of: "remote"))
            let stranger = try await Etcdctl(endpoint: etcd.clientURL, files: tls.clientFiles).run(["get", "cilium/cluster-config/east"])
            #expect(stranger.status != 0, "auth is on: a CN that is no user is refused: \(stranger)")
            try await root.succeed(["put", "probe", "x"])

            for cluster in [east, west, north] { try cluster.addService("spread", port: 8077, annotations: ClusterMeshEndToEndTests.global) }
            let rootFiles = tls.files(of: "root")
            east.extraArguments = [
                "--kvstore", "etcd", "--kvstore-endpoints", etcd.clientURL, "--kvstore-trusted-ca-file", tls.caCert,
                "--kvstore-cert-file", rootFiles.certFile!, "--kvstore-key-file", rootFiles.keyFile!,
            ]
            for cluster in [east, west, north] { try cluster.startAgent() }
            for cluster in [east, west, north] { #expect(await cluster.waitHealthy(), "\(cluster.name) starts") }

            // What the remote role may read: east's export is there, and nothing outside it is.
            #expect(await waitUntil(.seconds(10)) {
                ((try? await remote.run(["get", "cilium/state/services/v1/east/default/spread", "--print-value-only"]))?.stdout ?? "").contains(#""cluster":"east""#)
            }, "east exported as root, remote reads it")
            let wide = try await remote.run(["get", "--prefix", "cilium/"])
            #expect(wide.status != 0 && wide.stderr.contains("etcdserver: permission denied"), "the remote role may not list cilium/: \(wide)")
            let forged = try await remote.run(["put", "cilium/state/services/v1/east/default/forged", "{}"])
            #expect(forged.status != 0 && forged.stderr.contains("etcdserver: permission denied"), "\(forged)")

            let remoteFiles = tls.files(of: "remote")
            try """
                endpoints:
                  - \(etcd.clientURL)
                trusted-ca-file: \(tls.caCert)
                cert-file: \(remoteFiles.certFile!)
                key-file: \(remoteFiles.keyFile!)
                """.write(to: west.meshDir.appendingPathComponent("east"), atomically: true, encoding: .utf8)
            // North presents a certificate whose CN is no etcd user: its password is what counts.
            try """
                endpoints:
                  - \(etcd.clientURL)
                trusted-ca-file: \(tls.caCert)
                cert-file: \(tls.clientCert)
                key-file: \(tls.clientKey)
                username: north-reader
                password: "s3cret pass"
                """.write(to: north.meshDir.appendingPathComponent("east"), atomically: true, encoding: .utf8)
            for follower in [west, north] {
                var seen: ClustersDocument.Remote?
                #expect(await waitUntil(.seconds(15)) {
                    seen = try? await follower.clusters().remotes.first { $0.name == "east" }
                    return seen.map { $0.connected && $0.backends == 2 && $0.id == 1 } ?? false
                }, "\(follower.name) follows east: \(String(describing: seen))")
                let tally = try await tallyBackends(follower.frontend(8077), 120)
                #expect(MeshCluster.clusters(of: tally) == ["east", follower.name], "\(follower.name): \(tally)")
            }

            // A change in east reaches both followers through the remote role's watch.
            try await Mesh.interlink(["annotate", "service", "default/spread", "service.cilium.io/shared=false", "--api", east.apiURL])
            for follower in [west, north] {
                #expect(await waitUntil(.seconds(10)) {
                    (try? await follower.clusters().remotes.first { $0.name == "east" }).map { $0.backends == 0 } ?? false
                }, "\(follower.name) saw east's service unshared")
            }
        } catch {
            _ = await stopAll()
            throw error
        }
        #expect(await stopAll() == [0, 0, 0], "every agent stops cleanly")
    }
}
