import InterlinkCore

/// A service exported by a remote cluster, validated: what the merge uses.
public struct RemoteService: Hashable, Sendable {
    public var cluster: ClusterName
    public var name: ServiceName
    public var isGlobal: Bool
    public var isShared: Bool
    /// Port name → backends on that port (TCP and UDP; other protocols are left out).
    public var backends: [String: [Backend]]
    /// Port name → its protocol: a local port takes a remote port's backends only when both
    /// name and protocol match.
    public var transports: [String: TransportProtocol] = [:]

    public init(cluster: ClusterName, name: ServiceName, isGlobal: Bool, isShared: Bool, backends: [String: [Backend]], transports: [String: TransportProtocol] = [:]) {
        self.cluster = cluster
        self.name = name
        self.isGlobal = isGlobal
        self.isShared = isShared
        self.backends = backends
        self.transports = transports
    }

    /// The backends of the remote port named like `port` and of the same protocol.
    public func backends(for port: ServicePort) -> [Backend] {
        guard (transports[port.name] ?? .tcp) == port.transport else { return [] }
        return backends[port.name] ?? []
    }
}

/// Why a remote entry was skipped. Counted and reported; never fatal.
public struct InvalidRemoteEntry: Error, Hashable, Sendable, CustomStringConvertible {
    public let key: String
    public let reason: String

    public var description: String { "\(key): \(reason)" }
}
