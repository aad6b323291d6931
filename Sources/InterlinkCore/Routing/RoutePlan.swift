/// One failover tier of a frontend's plan: some clusters, their health, and the share of new
/// connections they get.
public struct PlannedTier: Hashable, Sendable {
    /// `local`, a cluster name from the order, `others` (every remote not listed) or `all`.
    public var label: String
    public var clusters: [ClusterName]
    /// Backends that could take connections (not excluded for a reason of their own).
    public var usable: [Backend]
    /// Backends that count for its health: all of the tier but refused and drained ones.
    public var total: Int
    public var healthy: Int
    /// Healthy backends it needs to count as available (`interlink.io/min-healthy`).
    public var required: Int
    public var isAvailable: Bool { healthy > 0 && healthy >= required }
    /// Why an available tier is not used yet, e.g. `failback delay: available for 12s of 30s`.
    public var held: String?
    /// Its share of new connections, 0 to 1.
    public var share: Double
}

/// A backend of the plan with its share of new connections.
public struct WeightedBackend: Hashable, Sendable {
    public var backend: Backend
    public var weight: Double
}

/// A backend that takes no new connections, and why.
public struct ExcludedBackend: Hashable, Sendable {
    public var backend: Backend
    public var reason: String
}

/// What the planner decided for one frontend: every backend either weighted or excluded with
/// its reason, the tiers, and the sentence `explain` shows.
public struct RoutePlan: Hashable, Sendable {
    public var tiers: [PlannedTier]
    /// Shares sum to 1 when any backend takes connections.
    public var weighted: [WeightedBackend]
    public var excluded: [ExcludedBackend]
    /// No tier had a healthy backend: every backend not drained, refused or in maintenance is tried.
    public var isPanic: Bool
    public var explanation: String

    /// The share of new connections each cluster gets.
    public var clusterShares: [ClusterName: Double] {
        weighted.reduce(into: [:]) { $0[$1.backend.cluster, default: 0] += $1.weight }
    }
}
