import Foundation
import InterlinkAPI
import InterlinkAgent
import InterlinkCore
import Testing

/// An Interlink cluster and a Cilium cluster as one mesh. "cluster1" is a Cilium cluster as
/// its clustermesh-apiserver serves it: a real etcd with mutual TLS, `--client-cert-auth`,
/// etcd auth and the read-only user `remote`, holding exactly what Cilium writes there (cluster
/// config, the four synced canaries, the heartbeat, ClusterService entries in Cilium's own
/// shape) and two real backends. East is an Interlink agent whose `--clustermesh-config` is
/// laid out like Cilium's mounted `cilium-clustermesh` secret: the config file beside its
/// certificate and key files, the endpoint `https://cluster1.mesh.cilium.io:PORT` resolved by
/// `cilium-host-aliases`.
@Suite(.serialized, .timeLimit(.minutes(5)), .enabled(if: EtcdServer.isAvailable && TLSFixture.isAvailable && Etcdctl.isAvailable,
    "needs etcd, etcdctl and openssl (apt-get install -y etcd-server etcd-client openssl; .ci/run does it)"))
struct CiliumInteropTests {
    static let ciliumSubnet = 126
    static let servicePort: UInt16 = 8126

    /// The ClusterService JSON Cilium's exporter writes (`globalnamespace-services.txtar`'s shape).
    static func exporterEntry(backends: [String], port: UInt16) -> String {
        let map = backends.map { #""\#($0)":{"tcp":{"Protocol":"TCP","Port":\#(port)}}"# }.joined(separator: ",")
        return #"{"cluster":"cluster1","namespace":"default","name":"spread","frontends":{"127.0.126.10":{"tcp":{"Protocol":"TCP","Port":8126}}},"backends":{\#(map)},"labels":{},"selector":{"app":"spread"},"includeExternal":true,"shared":true,"clusterID":7}"#
    }

    /// What a Cilium cluster's store holds, written as root with etcdctl; the services canary
    /// only when `canary`.
    static func writeCiliumState(_ root: Etcdctl, cached: Bool, entry: String?, canary: Bool) async throws {
        let config = #"{"id":7,"capabilities":{"syncedCanaries":true,"maxConnectedClusters":255,"serviceExportsEnabled":false\#(cached ? #","cached":true"# : "")}}"#
        try await root.succeed(["put", "cilium/cluster-config/cluster1", config])
        let state = cached ? "cilium/cache" : "cilium/state"
        let now = ISO8601DateFormatter().string(from: Date())
        try await root.succeed(["put", "cilium/.heartbeat", now])
        for prefix in ["nodes/v1", "identities/v1", "ip/v1"] { try await root.succeed(["put", "cilium/synced/cluster1/\(state)/\(prefix)", now]) }
        if let entry { try await root.succeed(["put", "\(state)/services/v1/cluster1/default/spread", entry]) }
        if canary { try await root.succeed(["put", "cilium/synced/cluster1/\(state)/services/v1", now]) }
    }

    /// East's cluster file and the certificates beside it, as the secret mounts them.
    static func writeSecretFolder(_ folder: URL, tls: TLSFixture, port: UInt16) throws {
        let remote = tls.files(of: "remote")
        for (source, name) in [(tls.caCert, "cluster1.etcd-client-ca.crt"), (remote.certFile!, "cluster1.etcd-client.crt"), (remote.keyFile!, "cluster1.etcd-client.key")] {
            try FileManager.default.copyItem(atPath: source, toPath: folder.appendingPathComponent(name).path)
        }
        try """
            endpoints:
            - https://cluster1.mesh.cilium.io:\(port)
            trusted-ca-file: \(folder.path)/cluster1.etcd-client-ca.crt
            key-file: \(folder.path)/cluster1.etcd-client.key
            cert-file: \(folder.path)/cluster1.etcd-client.crt
            cilium-host-aliases:
            - hostname: cluster1.mesh.cilium.io
              ips:
                - 127.0.0.1
            """.write(to: folder.appendingPathComponent("cluster1"), atomically: true, encoding: .utf8)
    }

    @Test("east (affinity local) follows a Cilium cluster's store, waits for its canary, fails over to its backends and back with no failed connection, and keeps them while that store restarts empty",
          arguments: [false, true])
    func followsCiliumCluster(cached: Bool) async throws {
        let tls = try TLSFixture(users: ["root", "remote"])
        defer { tls.remove() }
        var etcd = try await EtcdServer(tls: tls)
        let backendPort = try await freePort()
        var ciliumBackends: [TestBackend] = []
        for index in 1...2 {
            ciliumBackends.append(try await TestBackend.start(
                name: "cluster1-b\(index)", at: SocketEndpoint("127.0.\(Self.ciliumSubnet).1\(index):\(backendPort)")!))
        }
        let east = try await MeshCluster(name: "east", id: 1, subnet: 127, kind: .embedded, backendPort: backendPort)
        func stopAll() async -> Int32? {
            let status = await east.shutdown()
            for backend in ciliumBackends { await backend.stop() }
            etcd.stop()
            return status
        }
        do {
            try await ClusterMeshApiserverEtcdTests.configureAuth(Etcdctl(endpoint: etcd.clientURL, files: tls.clientFiles), cluster: "cluster1")
            let root = Etcdctl(endpoint: etcd.clientURL, files: tls.files(of: "root"))
            let backends = (1...2).map { "127.0.\(Self.ciliumSubnet).1\($0)" }
            try await Self.writeCiliumState(root, cached: cached, entry: Self.exporterEntry(backends: backends, port: backendPort), canary: false)

            try east.addService("spread", port: Self.servicePort, annotations: ClusterMeshEndToEndTests.global.merging(["service.cilium.io/affinity": "local"]) { $1 })
            try Self.writeSecretFolder(east.meshDir, tls: tls, port: etcd.clientPort)
            try east.startAgent()
            #expect(await east.waitHealthy())
            var seen: ClustersDocument.Remote?
            func remote() async -> ClustersDocument.Remote? {
                seen = try? await east.clusters().remotes.first { $0.name == "cluster1" }
                return seen
            }

            // Entries are there, the canary is not: nothing is used yet.
            #expect(await waitUntil(.seconds(15)) { await remote()?.canarySeen == false }, "waits for the canary: \(String(describing: seen))")
            #expect(await remote().map { $0.backends == 0 && ($0.lastError ?? "").contains("waiting for cilium/synced/cluster1/") } == true)
            try await root.succeed(["put", "cilium/synced/cluster1/\(cached ? "cilium/cache" : "cilium/state")/services/v1", "2026-12-03T00:00:00Z"])
            #expect(await waitUntil(.seconds(10)) { await remote().map { $0.connected && $0.canarySeen == true && $0.backends == 2 && $0.id == 7 } ?? false },
                    "\(String(describing: seen))")
            #expect(await remote()?.cached == cached)
            #expect(await east.localBackendsUp(within: .seconds(5)))
            let frontend = east.frontend(Self.servicePort)
            #expect(MeshCluster.clusters(of: try await tallyBackends(frontend, 40)) == ["east"], "affinity local: east while it is healthy")

            // East's backends die: every connection still succeeds, on the Cilium cluster's.
            await east.stopBackends()
            let failover = await hammer(frontend, for: ClusterMeshEndToEndTests.failoverBound)
            #expect(failover.failures == 0, "failed connections during the failover: \(failover)")
            let after = try await tallyBackends(frontend, 40)
            #expect(MeshCluster.clusters(of: after) == ["cluster1"], "\(after)")
            try await east.startBackends()
            let failback = await hammer(frontend, for: .seconds(2))
            #expect(failback.failures == 0, "failed connections during the failback: \(failback)")
            #expect(await waitUntil(.seconds(5)) { (try? await tallyBackends(frontend, 20)).map { MeshCluster.clusters(of: $0) == ["east"] } ?? false })
            print("cilium-interop cached=\(cached): failover \(failover.tally) failures \(failover.failures); failback \(failback.tally) failures \(failback.failures)")

            // Cilium's store restarts empty: its canary is gone, so east keeps what it had...
            let (clientPort, peerPort) = (etcd.clientPort, etcd.peerPort)
            etcd.stop()
            etcd = try await EtcdServer(clientPort: clientPort, peerPort: peerPort, tls: tls)
            try await ClusterMeshApiserverEtcdTests.configureAuth(Etcdctl(endpoint: etcd.clientURL, files: tls.clientFiles), cluster: "cluster1")
            let restarted = Etcdctl(endpoint: etcd.clientURL, files: tls.files(of: "root"))
            try await Self.writeCiliumState(restarted, cached: cached, entry: nil, canary: false)
            #expect(await waitUntil(.seconds(20)) { await remote()?.canarySeen == false }, "\(String(describing: seen))")
            try await Task.sleep(for: .seconds(1))
            #expect(await remote()?.backends == 2, "cluster1's backends are kept until its canary says the upload is complete")
            // ... until the upload is complete again, with one backend now.
            let bare = #"{"name":"spread","namespace":"default","shared":true,"cluster":"cluster1","clusterID":7,"backends":{"\#(backends[0])":{"tcp":{"Protocol":"TCP","Port":\#(backendPort)}}}}"#
            try await Self.writeCiliumState(restarted, cached: cached, entry: bare, canary: true)
            #expect(await waitUntil(.seconds(10)) { await remote().map { $0.canarySeen == true && $0.backends == 1 } ?? false },
                    "\(String(describing: seen))")
        } catch {
            _ = await stopAll()
            throw error
        }
        #expect(await stopAll() == 0, "east stops cleanly")
    }

    @Test("a Cilium-style folder: files without endpoints: are ignored, a bad file is reported and retried, never fatal; a rotated CA file reconnects; a peer of another maxConnectedClusters is refused; an endpointslices-only peer is reported")
    func capabilitiesAndFolder() async throws {
        let tls = try TLSFixture()
        let stranger = try TLSFixture()
        defer { tls.remove(); stranger.remove() }
        let etcd = try await EtcdServer(tls: tls)
        let east = try await MeshCluster(name: "east", id: 1, subnet: 127, kind: .embedded, backendPort: try await freePort())
        func stopAll() async -> Int32? {
            let status = await east.shutdown()
            etcd.stop()
            return status
        }
        do {
            let root = Etcdctl(endpoint: etcd.clientURL, files: tls.clientFiles)
            try await root.succeed(["put", "cilium/cluster-config/big511", #"{"id":8,"capabilities":{"syncedCanaries":true,"maxConnectedClusters":511}}"#])
            try await root.succeed(["put", "cilium/cluster-config/slices", #"{"id":5,"capabilities":{"syncedCanaries":true,"maxConnectedClusters":255,"serviceExportsEnabled":false,"endpointSlicesExportMode":"endpointslices-only"}}"#])
            try await root.succeed(["put", "cilium/cluster-config/rotated", #"{"id":6,"capabilities":{"syncedCanaries":true}}"#])
            try await root.succeed(["put", "cilium/cluster-config/broken", #"{"id":9}"#])
            for cluster in ["slices", "rotated"] { try await root.succeed(["put", "cilium/synced/\(cluster)/cilium/state/services/v1", "now"]) }

            let folder = east.meshDir
            func clusterFile(_ host: String, ca: String) -> String {
                """
                endpoints:
                - https://\(host):\(etcd.clientPort)
                trusted-ca-file: \(ca)
                cert-file: \(tls.clientCert)
                key-file: \(tls.clientKey)
                cilium-host-aliases:
                - hostname: \(host)
                  ips: [127.0.0.1]
                """
            }
            try clusterFile("big511.mesh.cilium.io", ca: tls.caCert).write(to: folder.appendingPathComponent("big511"), atomically: true, encoding: .utf8)
            try clusterFile("slices.mesh.cilium.io", ca: tls.caCert).write(to: folder.appendingPathComponent("slices"), atomically: true, encoding: .utf8)
            // As Kubernetes mounts a secret: the file is a link into `..data`, itself a link to a
            // timestamped folder that a rotation replaces.
            let rotatedCA = folder.appendingPathComponent("rotated.etcd-client-ca.crt")
            let fileManager = FileManager.default
            try fileManager.createDirectory(at: folder.appendingPathComponent("..2026_12_03_1"), withIntermediateDirectories: true)
            try fileManager.copyItem(atPath: stranger.caCert, toPath: folder.appendingPathComponent("..2026_12_03_1/rotated.etcd-client-ca.crt").path)
            try fileManager.createSymbolicLink(atPath: folder.appendingPathComponent("..data").path, withDestinationPath: "..2026_12_03_1")
            try fileManager.createSymbolicLink(atPath: rotatedCA.path, withDestinationPath: "..data/rotated.etcd-client-ca.crt")
            try clusterFile("rotated.mesh.cilium.io", ca: rotatedCA.path).write(to: folder.appendingPathComponent("rotated"), atomically: true, encoding: .utf8)
            try "endpoints: [not a url]\n".write(to: folder.appendingPathComponent("broken"), atomically: true, encoding: .utf8)
            try "This folder is the cilium-clustermesh secret.\n".write(to: folder.appendingPathComponent("README"), atomically: true, encoding: .utf8)
            try FileManager.default.copyItem(atPath: tls.clientKey, toPath: folder.appendingPathComponent("big511.etcd-client.key").path)

            try east.addService("spread", port: Self.servicePort, annotations: ClusterMeshEndToEndTests.global)
            try east.startAgent()
            #expect(await east.waitHealthy(), "a bad file in the folder does not stop the agent: \(String((east.log?.text ?? "").suffix(6000)))")
            var remotes: [String: ClustersDocument.Remote] = [:]
            func refresh() async -> [String: ClustersDocument.Remote] {
                remotes = Dictionary(uniqueKeysWithValues: ((try? await east.clusters().remotes) ?? []).map { ($0.name, $0) })
                return remotes
            }
            #expect(await waitUntil(.seconds(15)) {
                let now = await refresh()
                return (now["big511"]?.lastError ?? "").contains("has maxConnectedClusters 511, this cluster 255")
                    && now["slices"]?.connected == true && now["broken"]?.problem != nil && now["rotated"]?.lastError != nil
            }, "\(remotes) \(east.log?.text ?? "")")
            #expect(remotes.keys.sorted() == ["big511", "broken", "rotated", "slices"], "README and the key file are no cluster configs")
            #expect(remotes["big511"]?.connected == false)
            #expect(remotes["slices"]?.note?.contains("exports no services in the v1 format") == true, "\(String(describing: remotes["slices"]))")
            #expect(remotes["rotated"]?.note == nil && remotes["big511"]?.note == nil, "only the endpointslices-only peer has the note")
            #expect(remotes["broken"]?.problem?.contains("broken: endpoints: not a url is not an http:// or https:// URL") == true, "\(String(describing: remotes["broken"]))")
            #expect(remotes["rotated"]?.connected == false, "signed by another CA: \(String(describing: remotes["rotated"]))")
            #expect(remotes["rotated"]?.lastError?.contains("TLS handshake with https://rotated.mesh.cilium.io:\(etcd.clientPort) failed") == true,
                    "the failure is explained, with the host name the certificate must match: \(String(describing: remotes["rotated"]?.lastError))")

            // The CA is rotated as Kubernetes does it (the cluster file untouched): a new folder,
            // then `..data` swapped to it with one rename. East reconnects.
            try fileManager.createDirectory(at: folder.appendingPathComponent("..2026_12_03_2"), withIntermediateDirectories: true)
            try fileManager.copyItem(atPath: tls.caCert, toPath: folder.appendingPathComponent("..2026_12_03_2/rotated.etcd-client-ca.crt").path)
            try fileManager.createSymbolicLink(atPath: folder.appendingPathComponent("..data_tmp").path, withDestinationPath: "..2026_12_03_2")
            #expect(rename(folder.appendingPathComponent("..data_tmp").path, folder.appendingPathComponent("..data").path) == 0)
            // The bad file is fixed: it is picked up without a restart.
            try clusterFile("broken.mesh.cilium.io", ca: tls.caCert).write(to: folder.appendingPathComponent("broken"), atomically: true, encoding: .utf8)
            #expect(await waitUntil(.seconds(15)) {
                let now = await refresh()
                return now["rotated"]?.connected == true && now["broken"]?.connected == true && now["broken"]?.problem == nil
            }, "\(remotes)")
            #expect(remotes["rotated"]?.note == nil && remotes["rotated"]?.canarySeen == true)
            let status = try await Mesh.interlink(["status", "--api", east.apiURL])
            #expect(status.contains("slices: exports no services in the v1 format") && status.contains("CANARY"), "\(status)")
            #expect(!status.contains("rotated: "), "no note for a plain peer: \(status)")
        } catch {
            _ = await stopAll()
            throw error
        }
        #expect(await stopAll() == 0, "east stops cleanly")
    }
}
