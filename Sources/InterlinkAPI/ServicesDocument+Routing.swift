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

        /// The settings that differ from the defaults, e.g.
        /// `cluster-order=west,north min-healthy=2 spill=gradual`; empty for Cilium's behaviour.
        public var summary: String {
            var parts: [String] = []
            if !clusterOrder.isEmpty { parts.append("cluster-order=\(clusterOrder.joined(separator: ","))") }
            if minHealthy != "1" { parts.append("min-healthy=\(minHealthy)") }
            if spill != RoutingPolicy.Spill.allOrNothing.rawValue { parts.append("spill=\(spill)") }
            if failbackDelay != "0s" { parts.append("failback-delay=\(failbackDelay)") }
            if failbackRamp != "0s" { parts.append("failback-ramp=\(failbackRamp)") }
            if !clusterWeights.isEmpty {
                parts.append("cluster-weights=" + clusterWeights.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","))
            }
            if !panic { parts.append("panic=false") }
            return parts.joined(separator: " ")
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

        /// `west 60% (2/3 healthy)`, with `needs 2` when below min-healthy and why it is held.
        public var summary: String {
            var text = "\(label) \(Int((share * 100).rounded()))% (\(healthy)/\(total) healthy"
            if !available, required > 1 { text += ", needs \(required)" }
            text += ")"
            if let held { text += " held: \(held)" }
            return text
        }
    }
}
