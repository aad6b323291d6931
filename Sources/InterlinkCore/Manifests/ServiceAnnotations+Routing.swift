extension ServiceAnnotations {
    public static let clusterOrder = "interlink.io/cluster-order"
    public static let minHealthy = "interlink.io/min-healthy"
    public static let spill = "interlink.io/spill"
    public static let failbackDelay = "interlink.io/failback-delay"
    public static let failbackRamp = "interlink.io/failback-ramp"
    public static let clusterWeights = "interlink.io/cluster-weights"
    public static let panic = "interlink.io/panic"

    /// Every routing-policy annotation, for the reference and `explain`.
    public static let routingAnnotations = [clusterOrder, minHealthy, spill, failbackDelay, failbackRamp, clusterWeights, panic]

    /// Bounds: a mesh has at most 511 clusters; a weight or a count beyond these is a typo.
    static let maximumWeight = 10_000
    static let maximumHealthyCount = 10_000

    /// Parses the routing-policy annotations (`RoutingPolicy`); calls `fail(field, value,
    /// message)` for each bad one. `affinity` is the service's, already parsed: weights apply
    /// only with affinity `none`.
    static func parseRouting(_ annotations: [String: String], affinity: ServiceAffinity, fail: (String, String, String) -> Void) -> RoutingPolicy {
        var policy = RoutingPolicy()
        if let text = annotations[clusterOrder] {
            var seen: Set<ClusterName> = []
            for item in text.split(separator: ",", omittingEmptySubsequences: false).map({ String($0).trimmingSpaces() }) {
                guard !item.isEmpty || text.trimmingSpaces().isEmpty else {
                    fail(clusterOrder, text, "is not valid: expected cluster names separated by commas, such as \"west,north\"")
                    break
                }
                if item.isEmpty { continue }
                do {
                    let name = try ClusterName(item)
                    guard seen.insert(name).inserted else {
                        fail(clusterOrder, text, "names cluster \(item) twice: list each cluster once")
                        break
                    }
                    policy.clusterOrder.append(name)
                } catch {
                    fail(clusterOrder, text, "has a bad cluster name: \(error)")
                    break
                }
            }
        }
        if let text = annotations[minHealthy] {
            let trimmed = text.trimmingSpaces()
            if trimmed.hasSuffix("%") {
                if let percent = Int(trimmed.dropLast()), (1...100).contains(percent) {
                    policy.minimumHealthy = .percent(percent)
                } else {
                    fail(minHealthy, text, "is not valid: expected a share from 1% to 100%")
                }
            } else if let count = Int(trimmed), (1...maximumHealthyCount).contains(count) {
                policy.minimumHealthy = .count(count)
            } else {
                fail(minHealthy, text, "is not valid: expected a number of backends from 1 to \(maximumHealthyCount), or a share such as 50%")
            }
        }
        if let text = annotations[spill] {
            let normalised = text.lowercased().trimmingSpaces()
            if normalised.isEmpty {
                policy.spill = .allOrNothing
            } else if let parsed = RoutingPolicy.Spill(rawValue: normalised) {
                policy.spill = parsed
            } else {
                fail(spill, text, "is not valid: expected all-or-nothing or gradual")
            }
        }
        func duration(_ name: String) -> Duration? {
            guard let text = annotations[name] else { return nil }
            do {
                let parsed = try DurationText.parse(text)
                guard parsed <= .seconds(3600) else {
                    fail(name, text, "is not valid: expected a duration from 0s to 1h")
                    return nil
                }
                return parsed
            } catch {
                fail(name, text, "is not valid: expected \(DurationText.allowed)")
                return nil
            }
        }
        if let delay = duration(failbackDelay) { policy.failbackDelay = delay }
        if let ramp = duration(failbackRamp) { policy.failbackRamp = ramp }
        if let text = annotations[clusterWeights] {
            policy.clusterWeights = weights(text, fail: fail) ?? [:]
            if !policy.clusterWeights.isEmpty, affinity != .none {
                fail(clusterWeights, text, "applies only with \(ServiceAnnotations.affinity): none (this service has \(affinity.rawValue)): remove one of them")
            }
        }
        if let text = annotations[panic] {
            switch text.lowercased().trimmingSpaces() {
            case "true", "": policy.panic = true
            case "false": policy.panic = false
            default: fail(panic, text, "is not valid: expected \"true\" or \"false\"")
            }
        }
        return policy
    }

    /// `east=3,west=1` → weights; nil (after `fail`) when any entry is bad.
    private static func weights(_ text: String, fail: (String, String, String) -> Void) -> [ClusterName: Int]? {
        var weights: [ClusterName: Int] = [:]
        for item in text.split(separator: ",").map({ String($0).trimmingSpaces() }) where !item.isEmpty {
            let parts = item.split(separator: "=", maxSplits: 1).map { String($0).trimmingSpaces() }
            guard parts.count == 2, let weight = Int(parts[1]), (0...maximumWeight).contains(weight) else {
                fail(clusterWeights, text, "has a bad entry \(item): expected CLUSTER=WEIGHT with a weight from 0 to \(maximumWeight), such as \"east=3,west=1\"")
                return nil
            }
            guard let name = try? ClusterName(parts[0]) else {
                fail(clusterWeights, text, "has a bad cluster name \(parts[0]): expected lowercase letters, digits and '-'")
                return nil
            }
            guard weights.updateValue(weight, forKey: name) == nil else {
                fail(clusterWeights, text, "names cluster \(name) twice: give each cluster one weight")
                return nil
            }
        }
        return weights
    }
}
