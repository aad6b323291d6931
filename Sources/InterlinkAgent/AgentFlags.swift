import InterlinkCore
import InterlinkMesh

/// The command-line options of `interlink agent` as given, before validation: the CLI only
/// parses them into this, and `AgentSettings(flags:)` checks them and builds the settings.
public struct AgentFlags: Sendable {
    public var clusterName = "default"
    public var clusterID = 1
    public var maxConnectedClusters = 255
    public var manifests: String
    public var defaultFrontend: String?
    public var strict = false
    public var apiListen = AgentSettings.defaultAPIListen
    public var connectTimeout = "2s"
    public var maxAttempts = 3
    public var idleTimeout = "1h"
    public var drainGrace = "10s"
    public var threads: Int?
    public var dataPlane: String?
    public var kvstore = "embedded"
    public var kvstoreEndpoints: String?
    public var kvstoreTrustedCAFile: String?
    public var kvstoreCertFile: String?
    public var kvstoreKeyFile: String?
    public var kvstoreHeartbeatInterval = "1m"
    public var meshListen = EmbeddedStoreSettings.defaultListen
    public var dataDir: String?
    public var meshAllowWrites = false
    public var clustermeshConfig: String?
    public var clustermeshCacheTTL: String?
    public var meshAdvertise: String?
    public var apiTokenFile: String?
    public var backendAllowedCIDRs: String?
    public var backendDeniedCIDRs: String?
    public var apiMaxConnections = HTTPServerLimits.api.maxConnections
    public var meshMaxConnections = HTTPServerLimits.mesh.maxConnections
    public var controlIdleTimeout = "30s"
    public var meshTLSDir: String?
    public var meshCertFile: String?
    public var meshKeyFile: String?
    public var meshTrustedCAFile: String?
    public var meshClientCertFile: String?
    public var meshClientKeyFile: String?
    public var meshReadOnlyUsers: String?
    public var meshAdminUsers: String?
    public var meshInsecure = false
    public var meshGatewayListen: SocketEndpoint?

    public init(manifests: String) {
        self.manifests = manifests
    }
}

/// A bad option of `interlink agent`, naming it and saying what is expected (a usage error).
public struct FlagError: Error, Hashable, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
