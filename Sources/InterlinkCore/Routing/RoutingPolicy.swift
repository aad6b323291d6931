/// How a global service chooses among clusters beyond Cilium's affinity: the failover order,
/// the health a tier needs, spill, failback, weights and panic. The defaults are Cilium's
/// behaviour (one local tier, then every remote cluster; all or nothing; immediate failback),
/// plus panic mode.
public struct RoutingPolicy: Hashable, Sendable {
    /// How many backends of a tier must be healthy for it to count as available.
    public enum MinimumHealthy: Hashable, Sendable, CustomStringConvertible {
        case count(Int)
        /// A share in percent (1-100) of the tier's backends, rounded up.
        case percent(Int)

        /// The healthy backends needed in a tier of `total` (at least 1).
        public func required(of total: Int) -> Int {
            switch self {
            case .count(let count): max(1, count)
            case .percent(let percent): max(1, (total * percent + 99) / 100)
            }
        }

        public var description: String {
            switch self {
            case .count(let count): "\(count)"
            case .percent(let percent): "\(percent)%"
            }
        }
    }

    public enum Spill: String, Hashable, Sendable {
        /// The first available tier takes everything (Cilium's affinity).
        case allOrNothing = "all-or-nothing"
        /// A tier below full health keeps `min(1, 1.4 × healthy share)` and the rest spills to
        /// the next tier (Envoy's priority load, overprovisioning factor 1.4).
        case gradual
    }

    /// Envoy's default overprovisioning factor.
    public static let overprovisioning = 1.4

    /// Remote clusters in failover order (`interlink.io/cluster-order`).
    public var clusterOrder: [ClusterName] = []
    public var minimumHealthy: MinimumHealthy = .count(1)
    public var spill: Spill = .allOrNothing
    /// A tier returns to use only once available without interruption for this long.
    public var failbackDelay: Duration = .zero
    /// Then its share grows linearly over this long.
    public var failbackRamp: Duration = .zero
    /// With affinity `none`, each cluster's share of new connections (unlisted: 1).
    public var clusterWeights: [ClusterName: Int] = [:]
    /// With no healthy backend anywhere, try every backend that is not drained or refused.
    public var panic = true

    public init() {}

    public func weight(of cluster: ClusterName) -> Int { clusterWeights[cluster] ?? 1 }
}
