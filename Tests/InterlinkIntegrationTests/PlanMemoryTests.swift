@testable import InterlinkAgent
import InterlinkCore
import Testing

/// The agent's memory between plans, with explicit instants (no sleeps): when a tier comes
/// back, and that a remote cluster which vanished (it exports only healthy backends) and
/// returns waits out the failback delay like one that stayed listed.
struct PlanMemoryTests {
    static let east = try! ClusterName("east")
    static let west = try! ClusterName("west")
    static let north = try! ClusterName("north")
    static let frontend = Frontend(SocketEndpoint("127.0.98.10:80")!)

    static func candidate(_ cluster: ClusterName, _ host: Int, healthy: Bool = true) -> BackendCandidate {
        BackendCandidate(
            backend: Backend(endpoint: SocketEndpoint("127.0.98.\(host):80")!, cluster: cluster, state: .active),
            isLocal: cluster == east, isHealthy: healthy)
    }

    static func input(_ candidates: [BackendCandidate], at now: ContinuousClock.Instant) -> RoutePlanInput {
        var policy = RoutingPolicy()
        policy.clusterOrder = [west, north]
        policy.failbackDelay = .seconds(30)
        return RoutePlanInput(localCluster: east, isGlobal: true, affinity: .local, policy: policy, candidates: candidates, now: now)
    }

    @Test("a remote cluster that left the plan and comes back is held for the failback delay, then takes the traffic")
    func vanishedTierWaitsOutTheDelay() {
        var memory = PlanMemory()
        let start = ContinuousClock.now
        let localDown = Self.candidate(Self.east, 11, healthy: false)
        let west = Self.candidate(Self.west, 21)
        let north = Self.candidate(Self.north, 31)
        // east is down: west takes everything.
        var plan = memory.plan(frontend: Self.frontend, Self.input([localDown, west, north], at: start))
        #expect(plan.clusterShares[Self.west] == 1)
        // west's backends fail, so west exports none: north takes over.
        plan = memory.plan(frontend: Self.frontend, Self.input([localDown, north], at: start + .seconds(1)))
        #expect(plan.clusterShares[Self.north] == 1)
        // west is back: held, north keeps the traffic.
        plan = memory.plan(frontend: Self.frontend, Self.input([localDown, west, north], at: start + .seconds(10)))
        #expect(plan.clusterShares[Self.north] == 1)
        #expect(plan.tiers.first { $0.label == "west" }?.held == "failback delay: available for 0s of 30s")
        #expect(memory.timed(now: start + .seconds(20), policies: [Self.frontend: Self.input([], at: start).policy]) == [Self.frontend])
        // 30 s later, west again.
        plan = memory.plan(frontend: Self.frontend, Self.input([localDown, west, north], at: start + .seconds(40)))
        #expect(plan.clusterShares[Self.west] == 1)
        #expect(plan.tiers.first { $0.label == "west" }?.held == nil)
    }

    @Test("a cluster seen for the first time is not held: only a return is a failback")
    func firstSightIsNotAFailback() {
        var memory = PlanMemory()
        let start = ContinuousClock.now
        let localDown = Self.candidate(Self.east, 11, healthy: false)
        _ = memory.plan(frontend: Self.frontend, Self.input([localDown, Self.candidate(Self.north, 31)], at: start))
        let plan = memory.plan(frontend: Self.frontend, Self.input([localDown, Self.candidate(Self.west, 21), Self.candidate(Self.north, 31)], at: start + .seconds(1)))
        #expect(plan.clusterShares[Self.west] == 1, "west connected after north, and is preferred at once")
    }
}
