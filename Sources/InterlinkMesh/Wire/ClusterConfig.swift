import Foundation
import InterlinkCore

/// A cluster's configuration under `cilium/cluster-config/<cluster>`.
///
/// STABLE API: Cilium's `CiliumClusterConfig` (`pkg/clustermesh/types`). Every field is
/// optional there (`omitempty`) and read by Go's rules: a missing field is its zero value.
/// Encoding leaves out zero values as Cilium does.
public struct ClusterConfig: Codable, Hashable, Sendable {
    public struct Capabilities: Codable, Hashable, Sendable {
        /// The cluster writes a synced canary per prefix once that prefix is fully uploaded.
        public var syncedCanaries: Bool
        /// The data is a KVStoreMesh cache: under `cilium/cache/...`, not `cilium/state/...`.
        public var cached: Bool
        /// 255 or 511; 0 (left out) is Cilium's default, 255.
        public var maxConnectedClusters: Int
        /// Whether the cluster exports MCS-API ServiceExports; nil: it predates the MCS-API.
        public var serviceExportsEnabled: Bool?
        /// Cilium 1.19+: `endpointslices-only` means no services in the v1 format.
        public var endpointSlicesExportMode: String

        public init(
            syncedCanaries: Bool = true, cached: Bool = false, maxConnectedClusters: Int = 255,
            serviceExportsEnabled: Bool? = false, endpointSlicesExportMode: String = ""
        ) {
            self.syncedCanaries = syncedCanaries
            self.cached = cached
            self.maxConnectedClusters = maxConnectedClusters
            self.serviceExportsEnabled = serviceExportsEnabled
            self.endpointSlicesExportMode = endpointSlicesExportMode
        }

        /// What `maxConnectedClusters` means: 0 is Cilium's default.
        public var effectiveMaxConnectedClusters: Int { maxConnectedClusters == 0 ? 255 : maxConnectedClusters }

        /// The peer exports only EndpointSlices (Cilium 1.19's `endpointslices-only`).
        public var exportsNoV1Services: Bool { endpointSlicesExportMode == "endpointslices-only" }

        enum CodingKeys: String, CodingKey {
            case syncedCanaries, cached, maxConnectedClusters, serviceExportsEnabled, endpointSlicesExportMode
        }

        public init(from decoder: any Decoder) throws {
            let fields = try GoJSONFields(decoder)
            syncedCanaries = try fields.bool("syncedCanaries")
            cached = try fields.bool("cached")
            maxConnectedClusters = try fields.number("maxConnectedClusters", in: 0...Int(UInt32.max))
            serviceExportsEnabled = try fields.decode(Bool.self, "serviceExportsEnabled")
            endpointSlicesExportMode = try fields.string("endpointSlicesExportMode")
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            if syncedCanaries { try container.encode(true, forKey: .syncedCanaries) }
            if cached { try container.encode(true, forKey: .cached) }
            if maxConnectedClusters != 0 { try container.encode(maxConnectedClusters, forKey: .maxConnectedClusters) }
            try container.encodeIfPresent(serviceExportsEnabled, forKey: .serviceExportsEnabled)
            if !endpointSlicesExportMode.isEmpty { try container.encode(endpointSlicesExportMode, forKey: .endpointSlicesExportMode) }
        }
    }

    public var id: Int
    public var capabilities: Capabilities

    public init(id: Int, capabilities: Capabilities = Capabilities()) {
        self.id = id
        self.capabilities = capabilities
    }

    private enum CodingKeys: String, CodingKey { case id, capabilities }

    /// A config without `capabilities` (older agents) is valid: no synced canaries, 255 clusters.
    public init(from decoder: any Decoder) throws {
        let fields = try GoJSONFields(decoder)
        id = try fields.number("id", in: 0...Int(UInt32.max))
        capabilities = try fields.decode(Capabilities.self, "capabilities")
            ?? Capabilities(syncedCanaries: false, maxConnectedClusters: 0, serviceExportsEnabled: nil)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        if id != 0 { try container.encode(id, forKey: .id) }
        try container.encode(capabilities, forKey: .capabilities)
    }
}

extension ClusterConfig {
    /// Decodes the config `cluster` wrote, and checks it as Cilium does before connecting: a
    /// cluster ID in this mesh's range, and the same `maxConnectedClusters` as this cluster
    /// (0, left out, is 255).
    public static func decodeValidated(
        _ value: [UInt8], cluster: ClusterName, localMaximum: MaxConnectedClusters
    ) throws(RemoteClusterError) -> (config: ClusterConfig, id: ClusterID) {
        let key = KVStoreKeys.clusterConfig(cluster: cluster)
        let config: ClusterConfig
        do {
            config = try JSONDecoder().decode(ClusterConfig.self, from: Data(value))
        } catch {
            throw RemoteClusterError("\(key) is not a CiliumClusterConfig JSON value: \(ClusterService.describe(error))")
        }
        let remoteMaximum = config.capabilities.effectiveMaxConnectedClusters
        guard remoteMaximum == localMaximum.rawValue else {
            throw RemoteClusterError(
                "cluster \(cluster) has maxConnectedClusters \(remoteMaximum), this cluster \(localMaximum): every cluster of a mesh must use the same value (--max-connected-clusters here, Cilium's clustermesh.maxConnectedClusters there); \(cluster) is not connected")
        }
        do {
            return (config, try ClusterID(config.id, maxConnectedClusters: localMaximum))
        } catch {
            throw RemoteClusterError("\(key) has an invalid cluster ID: \(error)")
        }
    }
}
