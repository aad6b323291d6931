import InterlinkCore

/// One exported service as Cilium Cluster Mesh stores it under
/// `cilium/state/services/v1/<cluster>/<namespace>/<name>`.
///
/// STABLE API: the field names and shapes are Cilium's (`pkg/clustermesh/store`); change nothing
/// incompatibly. Decoding follows Go's `encoding/json` as Cilium reads it (missing fields are
/// zero, names match case-insensitively, unknown fields are ignored); encoding writes what
/// Cilium writes (`hostnames` and `zones` left out when empty). Decode with `decodeValidated`, which checks the entry against its key and its
/// cluster before anything reaches the model.
public struct ClusterService: Codable, Hashable, Sendable {
    /// A port as Cilium's `L4Addr` encodes it (Go field names, capitalised).
    public struct PortAddress: Codable, Hashable, Sendable {
        public var proto: String
        public var port: UInt16

        public init(proto: String = "TCP", port: UInt16) {
            self.proto = proto
            self.port = port
        }

        enum CodingKeys: String, CodingKey {
            case proto = "Protocol"
            case port = "Port"
        }
    }

    /// Where a backend runs and which zones should use it (Cilium 1.19's `BackendZone`, from
    /// the EndpointSlice's `zone` and `hints.forZones`).
    public struct BackendZone: Codable, Hashable, Sendable {
        public struct ForZone: Codable, Hashable, Sendable {
            public var name: String
            public init(name: String) { self.name = name }
        }

        public var zone: String
        public var forZones: [ForZone]

        public init(zone: String, forZones: [ForZone] = []) {
            self.zone = zone
            self.forZones = forZones
        }
    }

    /// IP address → port name → port.
    public typealias PortMap = [String: [String: PortAddress]]

    public var cluster: String
    public var namespace: String
    public var name: String
    public var frontends: PortMap
    public var backends: PortMap
    /// Backend IP → host name (omitted when empty).
    public var hostnames: [String: String]?
    /// Backend IP → zone (omitted when empty).
    public var zones: [String: BackendZone]?
    public var labels: [String: String]?
    public var selector: [String: String]?
    /// Cilium's name for "global".
    public var includeExternal: Bool
    public var shared: Bool
    public var clusterID: UInt32

    public init(
        cluster: String, namespace: String, name: String, frontends: PortMap, backends: PortMap,
        hostnames: [String: String]? = nil, zones: [String: BackendZone]? = nil, labels: [String: String]? = [:], selector: [String: String]? = [:],
        includeExternal: Bool, shared: Bool, clusterID: UInt32
    ) {
        self.cluster = cluster
        self.namespace = namespace
        self.name = name
        self.frontends = frontends
        self.backends = backends
        self.hostnames = hostnames
        self.zones = zones
        self.labels = labels
        self.selector = selector
        self.includeExternal = includeExternal
        self.shared = shared
        self.clusterID = clusterID
    }
}
