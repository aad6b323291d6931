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

    private enum CodingKeys: String, CodingKey { case id, capabilities }

    /// Cilium leaves out zero values: a config without `capabilities` (older agents) is
    /// valid and means no synced canaries.
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decodeIfPresent(Int.self, forKey: .id) ?? 0
        capabilities = try container.decodeIfPresent(Capabilities.self, forKey: .capabilities)
            ?? Capabilities(syncedCanaries: false, maxConnectedClusters: 255)
    }
}
