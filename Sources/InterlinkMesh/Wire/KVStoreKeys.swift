import InterlinkCore

/// The kvstore keys Interlink shares with Cilium Cluster Mesh.
///
/// STABLE API: these are Cilium's keys; other clusters (and Cilium itself) read them.
public enum KVStoreKeys {
    public static let servicesRoot = "cilium/state/services/v1"

    /// `cilium/state/services/v1/<cluster>/<namespace>/<name>`
    public static func service(cluster: ClusterName, name: ServiceName) -> String {
        "\(servicesRoot)/\(cluster)/\(name.namespace)/\(name.name)"
    }

    /// `cilium/state/services/v1/<cluster>/`: the trailing slash keeps `east` from matching `east2`.
    public static func servicesPrefix(cluster: ClusterName) -> String {
        "\(servicesRoot)/\(cluster)/"
    }

    /// `cilium/cluster-config/<cluster>`
    public static func clusterConfig(cluster: ClusterName) -> String {
        "cilium/cluster-config/\(cluster)"
    }

    /// `cilium/synced/<cluster>/cilium/state/services/v1`: written once the first upload is complete.
    public static func syncedCanary(cluster: ClusterName) -> String {
        "cilium/synced/\(cluster)/\(servicesRoot)"
    }

    /// The cluster and service a service key names; nil for any other key.
    public static func parseService(_ key: String) -> (cluster: String, name: ServiceName)? {
        guard key.hasPrefix(servicesRoot + "/") else { return nil }
        let parts = key.dropFirst(servicesRoot.count + 1).split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty }) else { return nil }
        return (String(parts[0]), ServiceName(namespace: String(parts[1]), name: String(parts[2])))
    }
}
