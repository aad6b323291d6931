/// The lifecycle state of a backend, from its EndpointSlice conditions (KEP-1669).
public enum BackendState: String, Hashable, Sendable, CaseIterable {
    /// Ready: takes new connections.
    case active
    /// Terminating but still serving: takes new connections only when no active backend exists.
    case terminating
    /// Neither: takes no new connections; existing ones are left alone.
    case maintenance

    /// Maps EndpointSlice conditions; an absent `ready` means ready.
    public init(ready: Bool?, serving: Bool?, terminating: Bool?) {
        if ready ?? true {
            self = .active
        } else if terminating == true, serving == true {
            self = .terminating
        } else {
            self = .maintenance
        }
    }
}

/// One backend of one service port, in one cluster.
public struct Backend: Hashable, Sendable {
    public var endpoint: SocketEndpoint
    public var cluster: ClusterName
    public var state: BackendState
    public var zone: String?
    public var hostname: String?
    /// The zones that should use it (EndpointSlice `hints.forZones`, Cilium's `forZones`): kept
    /// and exported; routing does not use them yet.
    public var forZones: [String]

    public init(
        endpoint: SocketEndpoint, cluster: ClusterName, state: BackendState, zone: String? = nil, hostname: String? = nil, forZones: [String] = []
    ) {
        self.endpoint = endpoint
        self.cluster = cluster
        self.state = state
        self.zone = zone
        self.hostname = hostname
        self.forZones = forZones
    }
}
