import Foundation
import InterlinkCore
import InterlinkMesh
import Testing

/// etcd's own client against an agent's store over mutual TLS, as a user would run it, with the
/// certificates `interlink certs` made: the CN `remote` (client.crt) reads and watches and may
/// not write; the cluster's own CN (admin.crt) writes, leases and compacts. The agent runs as
/// nobody when the tests run as root.
@Suite(.serialized, .timeLimit(.minutes(5)), .enabled(if: Etcdctl.isAvailable, "needs etcdctl (apt-get install -y etcd-client; .ci/run does it)"))
struct EtcdctlTests {
    static let asNobody = getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv")

    /// East's agent on 127.0.76.1 with the service `default/echo` (global), its store served
    /// with `--mesh-tls-dir` from `interlink certs issue`.
    static func startAgent(_ extraArguments: [String] = []) async throws -> (MeshCluster, URL) {
        let cluster = try await MeshCluster(name: "east", id: 1, subnet: 76, kind: .embedded, backendPort: try await freePort())
        let certificates = FileManager.default.temporaryDirectory.appendingPathComponent("interlink-certs-\(UUID().uuidString)")
        try await cluster.issueCertificates(in: certificates)
        try cluster.addService("echo", port: 8076, annotations: ClusterMeshEndToEndTests.global)
        if asNobody {
            try cluster.handOverToNobody()
            cluster.launcher = InterlinkProcess.unprivileged
        }
        cluster.extraArguments = extraArguments
        try cluster.startAgent()
        guard await cluster.waitHealthy() else {
            await cluster.shutdown()
            throw EtcdServerError("east's agent did not start")
        }
        return (cluster, certificates.appendingPathComponent("east"))
    }

    static let serviceKey = "cilium/state/services/v1/east/default/echo"

    @Test("as CN remote: get --prefix cilium/ and watch --prefix see the export and a change made with interlink annotate; put is permission denied; without a client certificate nothing is served")
    func remoteReadsAndWatches() async throws {
        let (cluster, dir) = try await Self.startAgent()
        defer { try? FileManager.default.removeItem(at: dir.deletingLastPathComponent()) }
        let remote = Etcdctl(endpoint: cluster.storeURL, certificates: dir)
        do {
            #expect(cluster.storeURL.hasPrefix("https://"))
            var listed = Etcdctl.Output(status: -1, stdout: "", stderr: "")
            #expect(await waitUntil(.seconds(10)) {
                listed = (try? await remote.run(["get", "--prefix", "cilium/", "--keys-only"])) ?? listed
                return listed.stdout.contains(Self.serviceKey)
            }, "get --prefix cilium/ as remote: \(listed)")
            for key in ["cilium/cluster-config/east", "cilium/synced/east/"] {
                #expect(listed.stdout.contains(key), "\(key) in \(listed)")
            }
            #expect(listed.status == 0)
            let value = try await remote.run(["get", Self.serviceKey, "--print-value-only"])
            #expect(value.stdout.contains(#""cluster":"east""#) && value.stdout.contains(#""shared":true"#), "\(value)")

            let watch = try remote.start(["watch", "--prefix", "cilium/state/services/v1/east/"])
            defer { watch.stop() }
            try await Task.sleep(for: .milliseconds(500))  // etcdctl has dialled and created its watch
            try await Mesh.interlink(["annotate", "service", "default/echo", "service.cilium.io/shared=false", "--api", cluster.apiURL])
            #expect(await waitUntil(.seconds(10)) { watch.output.contains("DELETE\n\(Self.serviceKey)") }, "watch saw the unshare: \(watch.output)")
            try await Mesh.interlink(["annotate", "service", "default/echo", "service.cilium.io/shared-", "--api", cluster.apiURL])
            #expect(await waitUntil(.seconds(10)) { watch.output.contains("PUT\n\(Self.serviceKey)\n{") }, "watch saw the export again: \(watch.output)")

            let put = try await remote.run(["put", "cilium/state/services/v1/east/default/forged", "{}"])
            #expect(put.status != 0 && put.stderr.contains("etcdserver: permission denied"), "\(put)")
            let outside = try await remote.run(["get", "interlink/", "--prefix"])
            #expect(outside.status != 0 && outside.stderr.contains("etcdserver: permission denied"), "the agent's own keys stay private: \(outside)")

            var anonymous = remote
            anonymous.certFile = nil
            anonymous.keyFile = nil
            let refused = try await anonymous.run(["get", Self.serviceKey])
            #expect(refused.status != 0 && refused.stdout.isEmpty, "no client certificate, no answer: \(refused)")
        } catch {
            await cluster.shutdown()
            throw error
        }
        #expect(await cluster.shutdown() == 0)
    }

    @Test("what a Cilium agent reads, as CN remote: the cluster config, the four synced canaries, the export in Cilium's shape, and a heartbeat that advances")
    func ciliumAgentView() async throws {
        let (cluster, dir) = try await Self.startAgent(["--kvstore-heartbeat-interval", "1s"])
        defer { try? FileManager.default.removeItem(at: dir.deletingLastPathComponent()) }
        let remote = Etcdctl(endpoint: cluster.storeURL, certificates: dir)
        do {
            let wanted = [
                "cilium/.heartbeat", "cilium/cluster-config/east",
                "cilium/synced/east/cilium/state/identities/v1", "cilium/synced/east/cilium/state/ip/v1",
                "cilium/synced/east/cilium/state/nodes/v1", "cilium/synced/east/cilium/state/services/v1", Self.serviceKey,
            ]
            var keys: [String] = []
            #expect(await waitUntil(.seconds(10)) {
                keys = ((try? await remote.run(["get", "--prefix", "cilium/", "--keys-only"]))?.stdout ?? "").split(separator: "\n").map(String.init)
                return Set(wanted).isSubset(of: keys)
            }, "get --prefix cilium/ --keys-only as remote: \(keys)")
            print("cilium-agent-view keys: \(keys.joined(separator: " "))")
            let config = try await remote.succeed(["get", "cilium/cluster-config/east", "--print-value-only"])
            #expect(config.trimmingCharacters(in: .whitespacesAndNewlines)
                == #"{"capabilities":{"maxConnectedClusters":255,"serviceExportsEnabled":true,"syncedCanaries":true},"id":1}"#, "\(config)")
            let entry = try await remote.succeed(["get", Self.serviceKey, "--print-value-only"])
            let fields = try #require(try JSONSerialization.jsonObject(with: Data(entry.utf8)) as? [String: Any])
            #expect(Set(fields.keys) == ["cluster", "namespace", "name", "frontends", "backends", "labels", "selector", "includeExternal", "shared", "clusterID"],
                    "Cilium's ClusterService fields, hostnames and zones left out when empty: \(entry)")
            #expect(entry.contains(#""tcp":{"Port":8076,"Protocol":"TCP"}"#), "Cilium's L4Addr: \(entry)")
            let decoded = try ClusterService.decodeValidated(
                Array(entry.utf8), key: Self.serviceKey, cluster: try ClusterName("east"), clusterID: try ClusterID(1))
            #expect(decoded.backends["tcp"]?.count == 2)

            let parser = ISO8601DateFormatter()
            parser.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            func heartbeat() async throws -> Date? {
                parser.date(from: try await remote.succeed(["get", "cilium/.heartbeat", "--print-value-only"]).trimmingCharacters(in: .whitespacesAndNewlines))
            }
            let first = try #require(try await heartbeat(), "the heartbeat is an RFC 3339 time")
            try await Task.sleep(for: .milliseconds(2500))
            let second = try #require(try await heartbeat())
            #expect(second > first, "the heartbeat advances: \(first) then \(second)")
        } catch {
            await cluster.shutdown()
            throw error
        }
        #expect(await cluster.shutdown() == 0)
    }

    @Test("as the cluster's own CN: put, txn, lease grant/keep-alive/timetolive/revoke, compaction; member list, endpoint status and endpoint health")
    func adminWritesAndInspects() async throws {
        let (cluster, dir) = try await Self.startAgent()
        defer { try? FileManager.default.removeItem(at: dir.deletingLastPathComponent()) }
        let admin = Etcdctl(endpoint: cluster.storeURL, certificates: dir, identity: "admin")
        do {
            let put = try await admin.run(["put", "etcdctl/k", "v1"])
            #expect(put.status == 0 && put.stdout == "OK\n", "\(put)")
            let first = try await admin.run(["get", "etcdctl/k", "-w", "json"])
            let firstRevision = try #require(Self.number("mod_revision", in: first.stdout), "\(first)")

            let txn = try await admin.run(["txn"], input: "value(\"etcdctl/k\") = \"v1\"\n\nput etcdctl/k v2\n\nput etcdctl/k failed\n\n")
            #expect(txn.status == 0 && txn.stdout.hasPrefix("SUCCESS\n\nOK"), "\(txn)")
            let missed = try await admin.run(["txn"], input: "value(\"etcdctl/k\") = \"v1\"\n\nput etcdctl/k v3\n\nget etcdctl/k\n\n")
            #expect(missed.status == 0 && missed.stdout.hasPrefix("FAILURE\n\netcdctl/k\nv2"), "\(missed)")

            let grant = try await admin.run(["lease", "grant", "60"])
            let lease = try #require(grant.stdout.split(separator: " ").dropFirst().first.map(String.init), "\(grant)")
            #expect(grant.stdout == "lease \(lease) granted with TTL(60s)\n", "\(grant)")
            #expect(try await admin.run(["put", "etcdctl/leased", "x", "--lease", lease]).status == 0)
            let alive = try await admin.run(["lease", "keep-alive", "--once", lease])
            #expect(alive.stdout == "lease \(lease) keepalived with TTL(60)\n", "\(alive)")
            let ttl = try await admin.run(["lease", "timetolive", lease, "--keys"])
            #expect(ttl.stdout.hasPrefix("lease \(lease) granted with TTL(60s), remaining(") && ttl.stdout.contains("attached keys([etcdctl/leased])"), "\(ttl)")
            let revoke = try await admin.run(["lease", "revoke", lease])
            #expect(revoke.stdout == "lease \(lease) revoked\n", "\(revoke)")
            #expect(try await admin.run(["get", "etcdctl/leased"]).stdout.isEmpty, "revoking the lease deleted its key")

            let latest = try await admin.run(["get", "etcdctl/k", "-w", "json"])
            let revision = try #require(Self.number("revision", in: latest.stdout), "\(latest)")
            let compacted = try await admin.run(["compaction", "\(revision)"])
            #expect(compacted.stdout == "compacted revision \(revision)\n", "\(compacted)")
            let old = try await admin.run(["get", "etcdctl/k", "--rev", "\(firstRevision)"])
            #expect(old.status != 0 && old.stderr.contains("etcdserver: mvcc: required revision has been compacted"), "\(old)")

            let members = try await admin.run(["member", "list"])
            #expect(members.status == 0 && members.stdout.contains(", started, east, ") && members.stdout.contains(cluster.storeURL), "\(members)")
            let status = try await admin.run(["endpoint", "status"])
            #expect(status.status == 0 && status.stdout.hasPrefix("\(cluster.storeURL), ") && status.stdout.contains(", 3.4.23, "), "\(status)")
            let health = try await admin.run(["endpoint", "health"])
            #expect(health.status == 0 && (health.stdout + health.stderr).contains("\(cluster.storeURL) is healthy"), "\(health)")
        } catch {
            await cluster.shutdown()
            throw error
        }
        #expect(await cluster.shutdown() == 0)
    }

    /// The first number after `"name":` in etcdctl's JSON output.
    static func number(_ name: String, in json: String) -> Int64? {
        guard let range = json.range(of: "\"\(name)\":") else { return nil }
        return Int64(json[range.upperBound...].prefix { $0.isNumber })
    }
}
