/// Everything one frontend's plan depends on. `recovered` holds, per tier label, when that tier
/// last became available again after being unavailable (absent: it has not been down), which
/// the caller keeps from one plan to the next (`RoutePlanner.recoveries`).
public struct RoutePlanInput: Sendable {
    public var localCluster: ClusterName
    public var isGlobal: Bool
    public var affinity: ServiceAffinity
    public var policy: RoutingPolicy
    public var candidates: [BackendCandidate]
    public var recovered: [String: ContinuousClock.Instant]
    public var now: ContinuousClock.Instant

    public init(
        localCluster: ClusterName, isGlobal: Bool, affinity: ServiceAffinity, policy: RoutingPolicy = RoutingPolicy(),
        candidates: [BackendCandidate], recovered: [String: ContinuousClock.Instant] = [:], now: ContinuousClock.Instant
    ) {
        self.localCluster = localCluster
        self.isGlobal = isGlobal
        self.affinity = affinity
        self.policy = policy
        self.candidates = candidates
        self.recovered = recovered
        self.now = now
    }
}

/// Snapshot → plan, for one frontend: ordered tiers with their shares, the reason for every
/// excluded backend, and the explanation. Pure: no clock is read (`now` is given), nothing is
/// stored.
public enum RoutePlanner {
    public static func plan(_ input: RoutePlanInput) -> RoutePlan {
        var excluded: [ExcludedBackend] = []
        var usableByCluster: [ClusterName: [BackendCandidate]] = [:]
        var countedByCluster: [ClusterName: Int] = [:]
        for candidate in input.candidates {
            let backend = candidate.backend
            if let reason = ownReason(candidate, input) {
                excluded.append(ExcludedBackend(backend: backend, reason: reason.rawValue))
                if reason != .refusedAddress, reason != .drained, reason != .remoteOfNonGlobalService {
                    countedByCluster[backend.cluster, default: 0] += 1
                }
                continue
            }
            countedByCluster[backend.cluster, default: 0] += 1
            usableByCluster[backend.cluster, default: []].append(candidate)
        }

        var tiers: [PlannedTier] = tierClusters(input, present: Set(countedByCluster.keys).union(usableByCluster.keys)).map { label, clusters in
            var usable = clusters.flatMap { usableByCluster[$0] ?? [] }
            // Terminating backends serve only when the tier has no active one (KEP-1669), and
            // do not make a tier available (Cilium's rule: a local terminating backend does not
            // hold traffic local); they are the last resort before panic.
            let active = usable.filter { $0.backend.state == .active }
            if !active.isEmpty {
                for candidate in usable where candidate.backend.state == .terminating {
                    excluded.append(ExcludedBackend(backend: candidate.backend, reason: Ineligibility.terminatingWithActivePeers.rawValue))
                }
                usable = active
            }
            let total = clusters.reduce(0) { $0 + (countedByCluster[$1] ?? 0) }
            return PlannedTier(
                label: label, clusters: clusters, usable: usable.map(\.backend), total: total, healthy: active.count,
                required: input.policy.minimumHealthy.required(of: total), held: nil, share: 0)
        }
        // Failback: a tier that came back waits out the delay, then ramps.
        var ramp = [Double](repeating: 1, count: tiers.count)
        for index in tiers.indices where tiers[index].isAvailable {
            guard let since = input.recovered[tiers[index].label] else { continue }
            let up = input.now - since  // shown in whole seconds: the count is what matters
            if up < input.policy.failbackDelay {
                tiers[index].held = "failback delay: available for \(DurationText.format(.seconds(up.components.seconds))) of \(DurationText.format(input.policy.failbackDelay))"
            } else if input.policy.failbackRamp > .zero, up - input.policy.failbackDelay < input.policy.failbackRamp {
                ramp[index] = (up - input.policy.failbackDelay) / input.policy.failbackRamp
            }
        }
        var isPanic = false
        assignShares(&tiers, ramp: ramp, spill: input.policy.spill)
        if !tiers.contains(where: { $0.share > 0 }) {
            // Nothing available and unheld: a held tier, then any tier with a healthy backend,
            // then one with a terminating backend that still serves.
            if let index = tiers.firstIndex(where: { $0.isAvailable }) ?? tiers.firstIndex(where: { $0.healthy > 0 })
                ?? tiers.firstIndex(where: { !$0.usable.isEmpty }) {
                tiers[index].share = 1
            }
        }
        var weighted = tiers.flatMap { weights(of: $0, policy: input.policy, affinity: input.affinity) }
        if weighted.isEmpty, input.policy.panic {
            let tried = input.candidates.filter { candidate in
                candidate.refusal == nil && !candidate.isDrained && candidate.backend.state != .maintenance
                    && (input.isGlobal || candidate.isLocal)
            }
            if !tried.isEmpty {
                isPanic = true
                weighted = tried.map { WeightedBackend(backend: $0.backend, weight: 1 / Double(tried.count)) }
                let panicked = Set(tried.map(\.backend.endpoint))
                excluded.removeAll { panicked.contains($0.backend.endpoint) }
            }
        }
        if !isPanic {
            for tier in tiers where tier.share == 0 {
                let reason = unusedTierReason(tier, preferred: tiers.first { $0.share > 0 }, input: input)
                excluded += tier.usable.map { backend in
                    ExcludedBackend(backend: backend, reason: backend.state == .terminating ? Ineligibility.terminatingWithActivePeers.rawValue : reason)
                }
            }
        }
        let plan = RoutePlan(tiers: tiers, weighted: weighted, excluded: excluded, isPanic: isPanic, explanation: "")
        return RoutePlan(tiers: tiers, weighted: weighted, excluded: excluded, isPanic: isPanic, explanation: explain(plan, input))
    }

    /// The next `recovered` map: a tier that was unavailable and is available now recovers at
    /// `now`; one that is unavailable loses its entry (and marks that it was down).
    public static func recoveries(
        previous: [String: ContinuousClock.Instant], wasAvailable: [String: Bool], plan: RoutePlan, now: ContinuousClock.Instant
    ) -> [String: ContinuousClock.Instant] {
        var next = previous
        for tier in plan.tiers {
            if !tier.isAvailable {
                next[tier.label] = nil
            } else if wasAvailable[tier.label] == false {
                next[tier.label] = now
            }
        }
        return next
    }

    /// Why a backend takes no connections whatever the tiers say.
    static func ownReason(_ candidate: BackendCandidate, _ input: RoutePlanInput) -> Ineligibility? {
        if candidate.refusal != nil { return .refusedAddress }
        if !input.isGlobal, !candidate.isLocal { return .remoteOfNonGlobalService }
        if candidate.backend.state == .maintenance { return .maintenance }
        if !candidate.isHealthy { return .unhealthy }
        if candidate.isDrained { return .drained }
        return nil
    }
}
