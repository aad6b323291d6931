import InterlinkCore

extension ServicesDocument {
    /// A service's routing policy as its annotations set it (`interlink.io/...`).
    public struct Routing: Codable, Sendable, Equatable {
        public var clusterOrder: [String]
        /// `2` or `50%`.
        public var minHealthy: String
        /// `all-or-nothing` or `gradual`.
        public var spill: String
        public var failbackDelay: String
        public var failbackRamp: String
        public var clusterWeights: [String: Int]
        public var panic: Bool

        public init(_ policy: RoutingPolicy) {
            clusterOrder = policy.clusterOrder.map(\.rawValue)
            minHealthy = policy.minimumHealthy.description
            spill = policy.spill.rawValue
            failbackDelay = DurationText.format(policy.failbackDelay)
            failbackRamp = DurationText.format(policy.failbackRamp)
            clusterWeights = Dictionary(policy.clusterWeights.map { ($0.key.rawValue, $0.value) }, uniquingKeysWith: { a, _ in a })
            panic = policy.panic
        }
    }

    /// One failover tier of a frontend's plan.
    public struct Tier: Codable, Sendable, Equatable {
        /// `local`, a cluster of the order, `others` or `all`.
        public var label: String
        public var clusters: [String]
        public var healthy: Int
        public var total: Int
        /// Healthy backends it needs to be available (`min-healthy`).
        public var required: Int
        public var available: Bool
        /// Why an available tier is not used yet (failback delay).
        public var held: String?
        /// Its share of new connections, 0 to 1.
        public var share: Double

        public init(_ tier: PlannedTier) {
            label = tier.label
            clusters = tier.clusters.map(\.rawValue)
            healthy = tier.healthy
            total = tier.total
            required = tier.required
            available = tier.isAvailable
            held = tier.held
            share = tier.share
        }
    }
}
