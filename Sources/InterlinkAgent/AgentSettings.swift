import InterlinkCore
import InterlinkMesh
import InterlinkProxy

/// Everything `interlink agent` is told on its command line, validated.
public struct AgentSettings: Sendable {
    public var clusterName: ClusterName
    public var clusterID: ClusterID
    /// 255 or 511 (`--max-connected-clusters`): the cluster ID range; every peer must agree.
    public var maxConnectedClusters: MaxConnectedClusters = .standard
    public var manifestsPath: String
    /// `--default-frontend` and `--strict`: how the manifest files and applied ones are read.
    public var manifestOptions = ManifestOptions()
    /// How often the manifest files are looked at for changes (`--manifests` is watched).
    public var manifestPollInterval: Duration = .milliseconds(250)
    public var apiListen: SocketEndpoint
    public var proxy = ProxySettings()
    /// How long open connections may finish after SIGTERM/SIGINT before they are closed.
    public var drainGrace: Duration = .seconds(10)
    /// Event-loop threads of the data plane; nil means NIO's `System.coreCount` (cgroup-aware).
    public var threads: Int?
    /// Which data plane proxies connections (`--data-plane`).
    public var dataPlane = DataPlaneKind.platformDefault
    /// This cluster's kvstore, where its global shared services are exported.
    public var kvstore: KVStoreMode = .none
    /// Directory of remote cluster files (Cilium's format); nil: no remote clusters.
    public var clustermeshConfig: String?
    /// Drop an unreachable remote cluster's backends after this long; nil: keep them.
    public var clustermeshCacheTTL: Duration?
    /// A file holding the token that mutating API calls must present (`Authorization: Bearer`);
    /// nil: the API is open to whoever reaches it (it binds to loopback by default).
    public var apiTokenFile: String?
    /// Where other clusters read this cluster's store, as `interlink connect` tells them; nil:
    /// derived from the mesh address (embedded) or the etcd endpoints.
    public var meshAdvertise: [String]?
    /// Remote backends must be in one of these networks (`--backend-allowed-cidrs`); empty: any.
    public var backendAllowedCIDRs: [IPNetwork] = []
    /// Remote backends in these networks are never dialled (`--backend-denied-cidrs`).
    public var backendDeniedCIDRs: [IPNetwork] = []
    /// Connection, idle and body limits of the API and of the mesh port.
    public var apiLimits = HTTPServerLimits.api
    public var meshLimits = HTTPServerLimits.mesh
    /// What the agent presents to the stores it reads when `interlink connect` gives it https://
    /// endpoints: the mesh CA and its client certificate (`--mesh-client-cert-file`).
    public var meshClientTLS: EtcdTLSFiles?
    /// How often `cilium/.heartbeat` is written to this cluster's store (Cilium: every minute).
    public var heartbeatInterval: Duration = .seconds(60)
    /// Lease TTL of exported entries.
    public var exportLeaseTTL: Duration = .seconds(900)

    public static let defaultAPIListen = SocketEndpoint("127.0.0.1:9876")!

    public init(clusterName: ClusterName, clusterID: ClusterID, manifestsPath: String, apiListen: SocketEndpoint = defaultAPIListen) {
        self.clusterName = clusterName
        self.clusterID = clusterID
        self.manifestsPath = manifestsPath
        self.apiListen = apiListen
    }
}

extension AgentSettings {
    /// Refuses settings that would be unsafe to run: an API reachable from other hosts with no
    /// token, whose open mutating calls would let anyone re-route traffic.
    public func validate() throws(SettingsError) {
        if !apiListen.ip.isLoopback, (apiListen.ip.unmappedIPv4?.isLoopback ?? false) == false, apiTokenFile == nil {
            throw SettingsError(
                "--api-listen \(apiListen) is reachable from other hosts, and without --api-token-file anyone there could change the routing: give --api-token-file FILE (a random token), or listen on a loopback address such as 127.0.0.1")
        }
        if case .embedded(let embedded) = kvstore {
            let loopback = embedded.listen.ip.isLoopback || (embedded.listen.ip.unmappedIPv4?.isLoopback ?? false)
            if !loopback, embedded.tls == nil, !embedded.insecure {
                throw SettingsError(
                    "--mesh-listen \(embedded.listen) is reachable from other hosts, and without TLS anyone there could read the mesh's services: give --mesh-cert-file, --mesh-key-file and --mesh-trusted-ca-file (interlink certs makes them), or --mesh-insecure to serve it in plaintext anyway")
            }
            if let gateway = embedded.gatewayListen, !(gateway.ip.isLoopback || (gateway.ip.unmappedIPv4?.isLoopback ?? false)) {
                throw SettingsError(
                    "--mesh-gateway-listen \(gateway): the JSON gateway is served in plaintext without client certificates, so only on a loopback address such as 127.0.0.1")
            }
        }
    }
}

extension AgentSettings {
    /// Keeps each part within its share of the descriptors (`FileDescriptorBudget`).
    func applying(_ budget: FileDescriptorBudget) -> AgentSettings {
        var settings = self
        settings.apiLimits.maxConnections = budget.apiConnections
        settings.meshLimits.maxConnections = budget.meshConnections
        settings.proxy.maxConnections = min(proxy.maxConnections, budget.proxyConnections)
        return settings
    }
}

/// Where a cluster keeps its kvstore.
public enum KVStoreMode: Sendable {
    /// No store: nothing is exported (remote clusters can still be followed).
    case none
    /// The agent's own store, served to peers on `listen`.
    case embedded(EmbeddedStoreSettings)
    /// A real etcd cluster, with TLS when `tls` is given.
    case etcd(endpoints: [String], tls: EtcdTLSFiles? = nil)
}

public struct EmbeddedStoreSettings: Sendable {
    /// The mesh address peers read the store from (port 0: any free port).
    public var listen: SocketEndpoint
    /// Where the SQLite file lives.
    public var dataDirectory: String
    /// Accept writes from peers (tests and benchmarks); otherwise the store is read-only for them.
    /// Without client certificates only; with them, writers are `adminUsers`.
    public var allowWrites = false
    /// TLS of the mesh port (`--mesh-cert-file`, `--mesh-key-file`, `--mesh-trusted-ca-file`).
    public var tls: MeshServerTLS?
    /// Client-certificate CNs that may only read (`remote` always may).
    public var readOnlyUsers: Set<String> = []
    /// Client-certificate CNs that may also write (the cluster's own name always may).
    public var adminUsers: Set<String> = []
    /// Serve the store without TLS on an address other hosts reach (`--mesh-insecure`).
    public var insecure = false
    /// Where etcd's JSON gateway is served (`--mesh-gateway-listen`), nil: not served.
    public var gatewayListen: SocketEndpoint?

    public static let defaultListen = SocketEndpoint("127.0.0.1:9877")!

    public init(listen: SocketEndpoint = defaultListen, dataDirectory: String, allowWrites: Bool = false) {
        self.listen = listen
        self.dataDirectory = dataDirectory
        self.allowWrites = allowWrites
    }

    /// Who may read and write the store through the mesh port.
    public func access(cluster: String) -> MeshAccess {
        MeshAccess(
            clientCertificatesRequired: tls?.trustedCAFile != nil, ownUser: cluster, readOnlyUsers: readOnlyUsers, adminUsers: adminUsers,
            allowWrites: allowWrites)
    }

    /// The URL of the store at `port` (`https://` with TLS).
    public func url(port: Int) -> String {
        let host = listen.ip.description.contains(":") ? "[\(listen.ip)]" : listen.ip.description
        return "\(tls == nil ? "http" : "https")://\(host):\(port)"
    }
}

/// A setting, option or configuration file that cannot be used; the agent does not start (exit 2).
public struct SettingsError: Error, Hashable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
