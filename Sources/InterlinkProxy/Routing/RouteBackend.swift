import InterlinkCore
import NIOCore

/// A backend as the data plane needs it: its address ready to dial and its counters.
public final class RouteBackend: Sendable {
    public let endpoint: SocketEndpoint
    public let cluster: ClusterName
    public let stats: BackendStats
    let socketAddress: SocketAddress
    #if os(Linux)
    /// The address as connect(2) takes it, for the purpose-built data plane.
    let rawAddress: RawSocketAddress
    #endif

    public init(endpoint: SocketEndpoint, cluster: ClusterName, stats: BackendStats) throws {
        self.endpoint = endpoint
        self.cluster = cluster
        self.stats = stats
        self.socketAddress = try SocketAddress(ipAddress: endpoint.ip.description, port: Int(endpoint.port))
        #if os(Linux)
        self.rawAddress = RawSocketAddress(endpoint)
        #endif
    }
}
