import Foundation
import InterlinkAgent
import Testing

/// Cluster mesh config files are read defensively: odd YAML is an error naming the file, never a crash.
struct ClusterMeshConfigParseTests {
    @Test("Cilium's file parses; odd YAML (a key that is a list or a mapping, endpoints that are not text) is an error, not a crash", arguments: [
        ("endpoints:\n- https://127.0.2.1:2379\n", true),
        ("? [a, b]\n: c\nendpoints: [http://127.0.0.1:2379]\n", true),
        ("{[1]: 2, endpoints: [http://127.0.0.1:2379]}\n", true),
        ("endpoints: [[http://127.0.0.1:2379]]\n", false),
        ("endpoints: http://127.0.0.1:2379\n", false),
        ("{c,\u{FFFD}\u{FFFD}\"bapaid\":4\u{FFFD}c,\n", false),
        ("- endpoints\n", false),
        ("", false),
    ])
    func parses(_ text: String, _ valid: Bool) {
        do {
            let config = try RemoteClusterConfig.parse(file: "west", text: text, path: "/mesh/west")
            #expect(valid, "accepted \(config)")
        } catch {
            #expect(!valid, "\(error)")
            #expect(error.description.hasPrefix("/mesh/west: "))
        }
    }
}

/// The folder and keys as Cilium's mounted `cilium-clustermesh` secret has them.
struct CiliumClusterFileTests {
    static func parse(_ text: String) throws(SettingsError) -> RemoteClusterConfig {
        try RemoteClusterConfig.parse(file: "cluster1", text: text, path: "/var/lib/cilium/clustermesh/cluster1")
    }

    @Test("every etcd client key Cilium's files use is accepted; an unknown one is reported, not fatal")
    func etcdClientKeys() throws {
        let config = try Self.parse("""
            endpoints:
            - https://cluster1.mesh.cilium.io:2379
            ca-file: /dev/null
            dial-timeout: 5s
            dial-keep-alive-time: 30s
            dial-keep-alive-timeout: 10s
            auto-sync-interval: 0s
            max-call-send-msg-size: 2097152
            max-call-recv-msg-size: 0
            reject-old-cluster: false
            permit-without-stream: true
            insecure-skip-tls-verify: false
            username: remote
            password: secret
            colour: blue
            """)
        #expect(config.tls?.trustedCAFile == "/dev/null", "the deprecated ca-file is the trusted CA")
        #expect(config.tls?.skipServerVerification == false && config.credentials?.username == "remote")
        #expect(config.unknownKeys == ["colour"])
    }

    @Test("cilium-host-aliases in the list form and the older map form", arguments: [
        "cilium-host-aliases:\n- hostname: cluster1.mesh.cilium.io\n  ips:\n    - 127.0.40.1\n    - 127.0.40.2\n",
        "cilium-host-aliases:\n  cluster1.mesh.cilium.io: [127.0.40.1, 127.0.40.2]\n",
    ])
    func hostAliases(_ aliases: String) throws {
        let config = try Self.parse("endpoints:\n- https://cluster1.mesh.cilium.io:2379\n" + aliases)
        #expect(config.hostAliases == ["cluster1.mesh.cilium.io": ["127.0.40.1", "127.0.40.2"]])
    }

    @Test("bad values name the file and the key", arguments: [
        ("cilium-host-aliases:\n- hostname: a.mesh.cilium.io\n  ips: []\n", "cilium-host-aliases: a.mesh.cilium.io has no IPs"),
        ("cilium-host-aliases:\n- hostname: a.mesh.cilium.io\n  ips: [not-an-ip]\n", "not-an-ip is not an IP address"),
        ("cilium-host-aliases:\n- {hostname: a, ips: [127.0.0.1]}\n- {hostname: a, ips: [127.0.0.2]}\n", "a is listed twice"),
        ("dial-timeout: soon\n", "dial-timeout:"),
        ("insecure-transport: true\n", "insecure-transport: true turns TLS off"),
        ("insecure-skip-tls-verify: maybe\n", "maybe is not true or false"),
        ("cert-file: /dev/null\n", "cert-file and key-file go together"),
    ])
    func badValues(_ extra: String, _ reason: String) {
        do {
            let config = try Self.parse("endpoints:\n- https://cluster1.mesh.cilium.io:2379\n" + extra)
            Issue.record("accepted \(config)")
        } catch {
            #expect(error.description.hasPrefix("/var/lib/cilium/clustermesh/cluster1: ") && error.description.contains(reason), "\(error)")
        }
    }

    @Test("a secret folder: only files with endpoints: are cluster configs; certificates, keys and Kubernetes' ..data are ignored")
    func secretFolder() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("clustermesh-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("..2026_12_03"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let files = [
            "cluster1": "endpoints:\n- https://cluster1.mesh.cilium.io:2379\n",
            "cluster1.etcd-client-ca.crt": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
            "cluster1.etcd-client.key": "-----BEGIN EC PRIVATE KEY-----\nMHc\n-----END EC PRIVATE KEY-----\n",
            "Broken_Name": "endpoints:\n- https://x:2379\n",
            "cluster2": "endpoints: not-a-list\n",
        ]
        for (name, text) in files { try text.write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        let scanned = try ClusterMeshDirectory.scan(folder.path)
        #expect(scanned.map(\.name) == ["Broken_Name", "cluster1", "cluster2"], "the certificate and key are no cluster configs")
        #expect(scanned.map { (try? $0.config.get()) != nil } == [false, true, false], "bad files are returned with their error, beside the good one")
    }
}
