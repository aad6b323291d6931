import InterlinkAgent
import InterlinkCore
import Testing

/// `interlink agent`'s options are validated in the library (`AgentSettings(flags:)`); the CLI
/// only parses them. No process is started here.
struct AgentFlagsTests {
    @Test("the defaults make the settings the README lists")
    func defaults() throws {
        let settings = try AgentSettings(flags: AgentFlags(manifests: "m.yaml"), environment: ["XDG_STATE_HOME": "/state"])
        #expect(settings.clusterName.rawValue == "default" && settings.clusterID.rawValue == 1 && settings.maxConnectedClusters == .standard)
        #expect(settings.heartbeatInterval == .seconds(60) && settings.proxy.connectTimeout == .seconds(2) && settings.drainGrace == .seconds(10))
        #expect(settings.clustermeshConfig == "/state/interlink/default/clustermesh")
        guard case .embedded(let embedded) = settings.kvstore else { Issue.record("not embedded: \(settings.kvstore)"); return }
        #expect(embedded.dataDirectory == "/state/interlink/default" && embedded.tls == nil)
    }

    @Test("the default data directory: $XDG_STATE_HOME, else $HOME/.local/state, then interlink/CLUSTER")
    func defaultDataDirectory() throws {
        let east = try ClusterName("east")
        #expect(AgentSettings.defaultDataDirectory(cluster: east, environment: ["XDG_STATE_HOME": "/srv/state", "HOME": "/home/a"]) == "/srv/state/interlink/east")
        #expect(AgentSettings.defaultDataDirectory(cluster: east, environment: ["HOME": "/tmp/svc"]) == "/tmp/svc/.local/state/interlink/east",
                "a service user's $HOME, not its passwd entry's home")
    }

    @Test("cluster IDs past 255 need --max-connected-clusters 511 (as Cilium)")
    func extendedMesh() throws {
        var flags = AgentFlags(manifests: "m.yaml")
        flags.clusterID = 300
        #expect(throws: FlagError.self) { try AgentSettings(flags: flags) }
        flags.maxConnectedClusters = 511
        #expect(try AgentSettings(flags: flags).clusterID.rawValue == 300)
    }

    @Test("a bad option names itself and what is expected", arguments: [
        ({ @Sendable (f: inout AgentFlags) in f.clusterID = 300 }, "--cluster-id: 300 is not valid: expected a cluster ID from 1 to 255"),
        ({ @Sendable (f: inout AgentFlags) in f.maxConnectedClusters = 256 }, "--max-connected-clusters: 256 is not valid: expected 255 or 511"),
        ({ @Sendable (f: inout AgentFlags) in f.kvstoreHeartbeatInterval = "2m" }, "--kvstore-heartbeat-interval: 2m is not valid: expected 1s to 90s"),
        ({ @Sendable (f: inout AgentFlags) in f.kvstoreEndpoints = "http://127.0.0.1:2379" }, "--kvstore-endpoints needs --kvstore etcd"),
        ({ @Sendable (f: inout AgentFlags) in f.kvstore = "etcd"; f.kvstoreEndpoints = "127.0.0.1:2379" }, "--kvstore-endpoints: 127.0.0.1:2379 is not an http:// or https:// URL"),
        ({ @Sendable (f: inout AgentFlags) in f.meshListen = SocketEndpoint("0.0.0.0:9877")! }, "--mesh-listen 0.0.0.0:9877 listens on every address"),
        ({ @Sendable (f: inout AgentFlags) in f.maxAttempts = 11 }, "--max-attempts: 11 is not valid: expected 1 to 10"),
        ({ @Sendable (f: inout AgentFlags) in f.connectTimeout = "0s" }, "--connect-timeout: 0s must be above 0"),
        ({ @Sendable (f: inout AgentFlags) in f.backendDeniedCIDRs = "10.0.0.1/8" }, "--backend-denied-cidrs:"),
        ({ @Sendable (f: inout AgentFlags) in f.meshCertFile = "/nonexistent.crt" }, "--mesh-cert-file: /nonexistent.crt cannot be read"),
    ] as [(@Sendable (inout AgentFlags) -> Void, String)])
    func refused(_ change: @Sendable (inout AgentFlags) -> Void, _ message: String) {
        var flags = AgentFlags(manifests: "m.yaml")
        change(&flags)
        do {
            _ = try AgentSettings(flags: flags)
            Issue.record("accepted; expected: \(message)")
        } catch {
            #expect(error.description.hasPrefix(message) || error.description.contains(message), "\(error)")
        }
    }
}
