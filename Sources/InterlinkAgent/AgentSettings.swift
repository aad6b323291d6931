import InterlinkCore
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
    /// etcd endpoints of this cluster's kvstore; empty: nothing is exported.
    public var kvstoreEndpoints: [String] = []
    /// Directory of remote cluster files (Cilium's format); nil: no remote clusters.
    public var clustermeshConfig: String?
    /// Drop an unreachable remote cluster's backends after this long; nil: keep them.
    public var clustermeshCacheTTL: Duration?
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
