import InterlinkCore

/// The kvstore keys Interlink shares with Cilium Cluster Mesh.
///
/// STABLE API: these are Cilium's keys; other clusters (and Cilium itself) read them. A
/// cluster's own data is under `cilium/state/`; a KVStoreMesh cache of a remote cluster
/// (`capabilities.cached`) keeps the same layout under `cilium/cache/`.
public enum KVStoreKeys {
    public static let servicesRoot = "cilium/state/services/v1"
    /// Where KVStoreMesh caches the services of the clusters it follows.
    public static let cachedServicesRoot = "cilium/cache/services/v1"
    /// Updated every minute by whoever serves a cluster's store; Cilium agents reconnect when
    /// it is older than about two minutes.
    public static let heartbeat = "cilium/.heartbeat"
    /// The prefixes a Cilium agent waits for before it counts a remote cluster as synced
    /// (with `syncedCanaries`): Interlink exports only services, and writes the others' canaries
    /// over empty prefixes.
    public static let canaryPrefixes = ["cilium/state/nodes/v1", servicesRoot, "cilium/state/identities/v1", "cilium/state/ip/v1", serviceExportsRoot]
    /// MCS-API exports (Cilium's `MCSAPIServiceSpec`), written with `serviceExportsEnabled`.
    public static let serviceExportsRoot = "cilium/state/serviceexports/v1"
    public static let cachedServiceExportsRoot = "cilium/cache/serviceexports/v1"

    /// `cilium/state/serviceexports/v1/<cluster>/<namespace>/<name>`
    public static func serviceExport(cluster: ClusterName, name: ServiceName) -> String {
        "\(serviceExportsRoot)/\(cluster)/\(name.namespace)/\(name.name)"
    }

    /// `cilium/state/serviceexports/v1/<cluster>/` (or the cache's).
    public static func serviceExportsPrefix(cluster: ClusterName, cached: Bool = false) -> String {
        "\(cached ? cachedServiceExportsRoot : serviceExportsRoot)/\(cluster)/"
    }

    /// The cluster and service a service export key (of either root) names; nil for any other key.
    public static func parseServiceExport(_ key: String) -> (cluster: String, name: ServiceName)? {
        parse(key, roots: [serviceExportsRoot, cachedServiceExportsRoot])
    }

    public static func servicesRoot(cached: Bool) -> String { cached ? cachedServicesRoot : servicesRoot }

    /// `cilium/state/services/v1/<cluster>/<namespace>/<name>`
    public static func service(cluster: ClusterName, name: ServiceName) -> String {
        "\(servicesRoot)/\(cluster)/\(name.namespace)/\(name.name)"
    }

    /// `cilium/state/services/v1/<cluster>/` (or the cache's): the trailing slash keeps `east`
    /// from matching `east2`.
    public static func servicesPrefix(cluster: ClusterName, cached: Bool = false) -> String {
        "\(servicesRoot(cached: cached))/\(cluster)/"
    }

    /// `cilium/cluster-config/<cluster>`
    public static func clusterConfig(cluster: ClusterName) -> String {
        "cilium/cluster-config/\(cluster)"
    }

    /// `cilium/synced/<cluster>/<prefix>`: written once the prefix is fully uploaded.
    public static func syncedCanary(cluster: ClusterName, prefix: String = servicesRoot) -> String {
        "cilium/synced/\(cluster)/\(prefix)"
    }

    /// The cluster and service a service key (of either root) names; nil for any other key.
    public static func parseService(_ key: String) -> (cluster: String, name: ServiceName)? {
        parse(key, roots: [servicesRoot, cachedServicesRoot])
    }

    private static func parse(_ key: String, roots: [String]) -> (cluster: String, name: ServiceName)? {
        guard let root = roots.first(where: { key.hasPrefix($0 + "/") }) else { return nil }
        let parts = key.dropFirst(root.count + 1).split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty }) else { return nil }
        return (String(parts[0]), ServiceName(namespace: String(parts[1]), name: String(parts[2])))
    }
}
