import InterlinkCore

/// What the route planner must remember from one plan to the next, per frontend: which tiers
/// were available (to see one come back), when each came back (for `failback-delay` and
/// `failback-ramp`), and the last plan (what `explain`, the API and metrics show).
struct PlanMemory {
    private var availability: [Frontend: [String: Bool]] = [:]
    private var recovered: [Frontend: [String: ContinuousClock.Instant]] = [:]
    private(set) var plans: [Frontend: RoutePlan] = [:]

    /// Plans `input` for `frontend` and remembers it. A tier that was unavailable in the last
    /// plan and is available now starts its failback delay at `input.now`.
    mutating func plan(frontend: Frontend, _ input: RoutePlanInput) -> RoutePlan {
        var input = input
        input.recovered = recovered[frontend] ?? [:]
        var plan = RoutePlanner.plan(input)
        let next = RoutePlanner.recoveries(previous: input.recovered, wasAvailable: availability[frontend] ?? [:], plan: plan, now: input.now)
        if next != input.recovered {
            input.recovered = next
            plan = RoutePlanner.plan(input)
        }
        recovered[frontend] = next
        // A tier missing from the plan is unavailable: a remote cluster exports only healthy
        // backends, so one whose backends all fail leaves the plan, and its return is a recovery.
        var seen = (availability[frontend] ?? [:]).mapValues { _ in false }
        for tier in plan.tiers { seen[tier.label] = (seen[tier.label] ?? false) || tier.isAvailable }
        availability[frontend] = seen
        plans[frontend] = plan
        return plan
    }

    /// Frontends whose plan changes with time alone: a tier waiting out its failback delay or
    /// ramping up (and a little after, to publish the full share). They are planned again every second.
    func timed(now: ContinuousClock.Instant, policies: [Frontend: RoutingPolicy]) -> Set<Frontend> {
        var frontends: Set<Frontend> = []
        for (frontend, since) in recovered {
            guard let policy = policies[frontend] else { continue }
            if since.values.contains(where: { now - $0 < policy.failbackDelay + policy.failbackRamp + .seconds(2) }) { frontends.insert(frontend) }
        }
        return frontends
    }

    /// Forgets frontends that are gone.
    mutating func keep(only frontends: Set<Frontend>) {
        for frontend in plans.keys where !frontends.contains(frontend) { plans[frontend] = nil }
        for frontend in recovered.keys where !frontends.contains(frontend) { recovered[frontend] = nil }
        for frontend in availability.keys where !frontends.contains(frontend) { availability[frontend] = nil }
    }
}
