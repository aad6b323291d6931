import InterlinkCore
import InterlinkMesh
import InterlinkProxy

/// Everything `interlink agent` is told on its command line, validated.
public struct AgentSettings: Sendable {
    public var clusterName: ClusterName
    public var clusterID: ClusterID
    public var manifestsPath: String
    public var apiListen: SocketEndpoint
    public var proxy = ProxySettings()
    /// How long open connections may finish after SIGTERM/SIGINT before they are closed.
    public var drainGrace: Duration = .seconds(10)
    /// Event-loop threads of the data plane; nil means NIO's `System.coreCount` (cgroup-aware).
    public var threads: Int?
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
    public var allowWrites = false

    public static let defaultListen = SocketEndpoint("127.0.0.1:9877")!

    public init(listen: SocketEndpoint = defaultListen, dataDirectory: String, allowWrites: Bool = false) {
        self.listen = listen
        self.dataDirectory = dataDirectory
        self.allowWrites = allowWrites
    }
}

/// A setting, option or configuration file that cannot be used; the agent does not start (exit 2).
public struct SettingsError: Error, Hashable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
