/// A cluster's configuration under `cilium/cluster-config/<cluster>`.
///
/// STABLE API: Cilium's `CiliumClusterConfig` shape.
public struct ClusterConfig: Codable, Hashable, Sendable {
    public struct Capabilities: Codable, Hashable, Sendable {
        public var syncedCanaries: Bool
        public var maxConnectedClusters: Int

        public init(syncedCanaries: Bool = true, maxConnectedClusters: Int = 255) {
            self.syncedCanaries = syncedCanaries
            self.maxConnectedClusters = maxConnectedClusters
        }
    }

    public var id: Int
    public var capabilities: Capabilities

    public init(id: Int, capabilities: Capabilities = Capabilities()) {
        self.id = id
        self.capabilities = capabilities
    }
}
