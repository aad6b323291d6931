extension RoutePlanner {
    /// The tiers in order of preference, each with its clusters (only clusters that have
    /// backends; empty tiers are left out).
    ///
    /// - not global: the local cluster;
    /// - `none`: every cluster in one tier;
    /// - `local`: local, then each cluster of `cluster-order`, then every other remote;
    /// - `remote`: each cluster of `cluster-order`, then every other remote, then local.
    static func tierClusters(_ input: RoutePlanInput, present: Set<ClusterName>) -> [(String, [ClusterName])] {
        let local = input.localCluster
        guard input.isGlobal else { return present.contains(local) ? [("local", [local])] : [] }
        if input.affinity == .none { return present.isEmpty ? [] : [("all", present.sorted())] }
        var seen: Set<ClusterName> = [local]
        var ordered: [(String, [ClusterName])] = []
        for cluster in input.policy.clusterOrder where present.contains(cluster) && seen.insert(cluster).inserted {
            ordered.append((cluster.rawValue, [cluster]))
        }
        let others = present.subtracting(seen).sorted()
        if !others.isEmpty { ordered.append(("others", others)) }
        let localTier: [(String, [ClusterName])] = present.contains(local) ? [("local", [local])] : []
        return input.affinity == .local ? localTier + ordered : ordered + localTier
    }

    /// Shares in order of preference. All or nothing: the first available tier takes everything
    /// (a ramping one its ramp's fraction, the rest going on down). Gradual: each tier keeps
    /// `min(1, 1.4 × healthy / total)` of what reaches it. What is left once every tier had its
    /// turn is shared in proportion (Envoy's normalisation).
    static func assignShares(_ tiers: inout [PlannedTier], ramp: [Double], spill: RoutingPolicy.Spill) {
        var remaining = 1.0
        for index in tiers.indices where tiers[index].isAvailable && tiers[index].held == nil && remaining > 1e-9 {
            let tier = tiers[index]
            let capacity: Double = switch spill {
            case .allOrNothing: 1
            case .gradual: min(1, RoutingPolicy.overprovisioning * Double(tier.healthy) / Double(max(1, tier.total)))
            }
            let share = min(remaining, capacity * ramp[index] * (spill == .allOrNothing ? remaining : 1))
            tiers[index].share = share
            remaining -= share
        }
        let assigned = 1 - remaining
        guard remaining > 1e-9, assigned > 1e-9 else { return }
        for index in tiers.indices { tiers[index].share /= assigned }
    }

    /// A tier's share spread over its backends: uniform, or with affinity `none` by cluster
    /// weight first (`interlink.io/cluster-weights`), uniform within a cluster.
    static func weights(of tier: PlannedTier, policy: RoutingPolicy, affinity: ServiceAffinity) -> [WeightedBackend] {
        guard tier.share > 0, !tier.usable.isEmpty else { return [] }
        let byCluster = Dictionary(grouping: tier.usable, by: \.cluster)
        let totalWeight = byCluster.keys.reduce(0) { $0 + policy.weight(of: $1) }
        guard affinity == .none, !policy.clusterWeights.isEmpty, totalWeight > 0 else {
            return tier.usable.map { WeightedBackend(backend: $0, weight: tier.share / Double(tier.usable.count)) }
        }
        return tier.usable.map { backend in
            let clusterShare = tier.share * Double(policy.weight(of: backend.cluster)) / Double(totalWeight)
            return WeightedBackend(backend: backend, weight: clusterShare / Double(byCluster[backend.cluster]?.count ?? 1))
        }
    }

    /// Why the usable backends of a tier without share take no connections; Cilium's own words
    /// where the policy is Cilium's.
    static func unusedTierReason(_ tier: PlannedTier, preferred: PlannedTier?, input: RoutePlanInput) -> String {
        if let held = tier.held { return held }
        if !tier.isAvailable {
            return "\(tier.label) has \(tier.healthy) of \(tier.total) healthy, fewer than min-healthy \(input.policy.minimumHealthy)"
        }
        guard let preferred else { return "no tier takes new connections" }
        if input.affinity == .local, preferred.label == "local" { return Ineligibility.preferLocal.rawValue }
        if input.affinity == .remote, tier.label == "local", input.policy.clusterOrder.isEmpty { return Ineligibility.preferRemote.rawValue }
        return "failover order: \(preferred.label) takes new connections first"
    }

    /// e.g. `affinity=local, order west,north: local (east) 0 of 2 healthy; west 2 of 2 healthy
    /// → 100%; north 2 of 2 healthy → 0%.`
    static func explain(_ plan: RoutePlan, _ input: RoutePlanInput) -> String {
        let policy = input.policy
        var settings = ["affinity=\(input.isGlobal ? input.affinity.rawValue : "not global")"]
        if !policy.clusterOrder.isEmpty { settings.append("order \(policy.clusterOrder.map(\.rawValue).joined(separator: ","))") }
        if policy.minimumHealthy != .count(1) { settings.append("min-healthy \(policy.minimumHealthy)") }
        if policy.spill == .gradual { settings.append("spill gradual") }
        if !policy.clusterWeights.isEmpty {
            settings.append("weights " + policy.clusterWeights.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","))
        }
        func percent(_ share: Double) -> String { "\(Int((share * 100).rounded()))%" }
        let tiers = plan.tiers.map { tier in
            let name = tier.label == "local" ? "local (\(input.localCluster))"
                : tier.label == "others" || tier.label == "all" ? "\(tier.label) (\(tier.clusters.map(\.rawValue).joined(separator: ", ")))" : tier.label
            var text = "\(name) \(tier.healthy) of \(tier.total) healthy"
            if let held = tier.held { text += " (\(held))" }
            return text + " → " + percent(tier.share)
        }
        var sentence = settings.joined(separator: ", ") + ": " + (tiers.isEmpty ? "no backends" : tiers.joined(separator: "; "))
        if plan.isPanic { sentence += "; panic: no healthy backend anywhere, trying all \(plan.weighted.count)" }
        if plan.weighted.isEmpty { sentence += "; no backend takes new connections" }
        return sentence + "."
    }
}
