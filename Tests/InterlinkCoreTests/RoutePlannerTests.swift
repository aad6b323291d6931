import InterlinkCore
import Testing

/// The route planner as tables: each row a set of clusters with their backends' health, a
/// policy, and the share each cluster must get.
struct RoutePlannerTests {
    static let east = try! ClusterName("east")
    static let now = ContinuousClock.now

    /// `"east": "uud"`: east has three backends, up, up, down (`t` terminating, `m`
    /// maintenance, `x` drained).
    static func candidates(_ clusters: KeyValuePairs<String, String>) -> [BackendCandidate] {
        var result: [BackendCandidate] = []
        for (clusterIndex, (name, states)) in clusters.enumerated() {
            let cluster = try! ClusterName(name)
            for (index, state) in states.enumerated() {
                let endpoint = SocketEndpoint("127.0.\(100 + clusterIndex).\(index + 1):80")!
                let backendState: BackendState = state == "t" ? .terminating : state == "m" ? .maintenance : .active
                result.append(BackendCandidate(
                    backend: Backend(endpoint: endpoint, cluster: cluster, state: backendState),
                    isLocal: cluster == east, isHealthy: state != "d", isDrained: state == "x"))
            }
        }
        return result
    }

    static func policy(order: [String] = [], min: RoutingPolicy.MinimumHealthy = .count(1), spill: RoutingPolicy.Spill = .allOrNothing,
                       weights: [String: Int] = [:], panic: Bool = true) -> RoutingPolicy {
        var policy = RoutingPolicy()
        policy.clusterOrder = order.map { try! ClusterName($0) }
        policy.minimumHealthy = min
        policy.spill = spill
        policy.clusterWeights = Dictionary(uniqueKeysWithValues: weights.map { (try! ClusterName($0.key), $0.value) })
        policy.panic = panic
        return policy
    }

    static func shares(_ plan: RoutePlan) -> [String: Int] {
        plan.clusterShares.filter { $0.value > 0 }.reduce(into: [:]) { $0[$1.key.rawValue] = Int(($1.value * 100).rounded()) }
    }

    struct Row: Sendable, CustomTestStringConvertible {
        var name: String
        var global = true
        var affinity: ServiceAffinity
        var policy = RoutingPolicy()
        var backends: KeyValuePairs<String, String>
        var shares: [String: Int]
        var testDescription: String { name }
    }

    static let rows: [Row] = [
        // Cilium's all-or-nothing cases, as they are today.
        Row(name: "not global: local only", global: false, affinity: .none, backends: ["east": "uu", "west": "uu"], shares: ["east": 100]),
        Row(name: "none spreads evenly over every backend", affinity: .none, backends: ["east": "uu", "west": "uu"], shares: ["east": 50, "west": 50]),
        Row(name: "local: one healthy local backend keeps everything", affinity: .local, backends: ["east": "ud", "west": "uu"], shares: ["east": 100]),
        Row(name: "local: no healthy local backend fails over to every remote", affinity: .local, backends: ["east": "dd", "west": "uu", "north": "uu"],
            shares: ["west": 50, "north": 50]),
        Row(name: "remote: remotes while one is healthy", affinity: .remote, backends: ["east": "uu", "west": "ud"], shares: ["west": 100]),
        Row(name: "remote: local when no remote is healthy", affinity: .remote, backends: ["east": "uu", "west": "dd"], shares: ["east": 100]),
        Row(name: "local: a terminating local backend does not hold traffic local (Cilium)", affinity: .local,
            backends: ["east": "td", "west": "uu"], shares: ["west": 100]),
        Row(name: "terminating backends serve when no active one is left anywhere", affinity: .local,
            backends: ["east": "td", "west": "dd"], shares: ["east": 100]),
        // cluster-order (KEP-5939: the first tier with an eligible backend wins).
        Row(name: "order: local first, then west before north", affinity: .local, policy: policy(order: ["west", "north"]),
            backends: ["east": "dd", "west": "uu", "north": "uu"], shares: ["west": 100]),
        Row(name: "order: west down, north next", affinity: .local, policy: policy(order: ["west", "north"]),
            backends: ["east": "dd", "west": "dd", "north": "uu", "south": "uu"], shares: ["north": 100]),
        Row(name: "order: unlisted remotes come after the listed ones", affinity: .local, policy: policy(order: ["west"]),
            backends: ["east": "dd", "west": "dd", "north": "uu", "south": "uu"], shares: ["north": 50, "south": 50]),
        Row(name: "order with remote: listed, then others, then local", affinity: .remote, policy: policy(order: ["north"]),
            backends: ["east": "uu", "west": "uu", "north": "du"], shares: ["north": 100]),
        Row(name: "order with remote: local last", affinity: .remote, policy: policy(order: ["north"]),
            backends: ["east": "uu", "west": "dd", "north": "dd"], shares: ["east": 100]),
        // min-healthy.
        Row(name: "min-healthy 2: one healthy local backend is not enough", affinity: .local, policy: policy(min: .count(2)),
            backends: ["east": "ud", "west": "uu"], shares: ["west": 100]),
        Row(name: "min-healthy 50%: 2 of 4 is enough", affinity: .local, policy: policy(min: .percent(50)),
            backends: ["east": "uudd", "west": "uu"], shares: ["east": 100]),
        Row(name: "min-healthy 50%: 1 of 4 is not", affinity: .local, policy: policy(min: .percent(50)),
            backends: ["east": "uddd", "west": "uu"], shares: ["west": 100]),
        Row(name: "min-healthy nowhere met: the first tier with a healthy backend", affinity: .local, policy: policy(min: .count(3)),
            backends: ["east": "ud", "west": "uu"], shares: ["east": 100]),
        // spill: gradual (Envoy: 1.4 × healthy share).
        Row(name: "gradual: half healthy keeps 70%", affinity: .local, policy: policy(spill: .gradual),
            backends: ["east": "ud", "west": "uu"], shares: ["east": 70, "west": 30]),
        Row(name: "gradual: 3 of 4 healthy keeps everything (1.4 × 75% > 100%)", affinity: .local, policy: policy(spill: .gradual),
            backends: ["east": "uuud", "west": "uu"], shares: ["east": 100]),
        Row(name: "gradual with min-healthy 2: 2 of 4 keeps 70%, the rest spills", affinity: .local, policy: policy(min: .count(2), spill: .gradual),
            backends: ["east": "uudd", "west": "uu"], shares: ["east": 70, "west": 30]),
        Row(name: "gradual: spills across ordered tiers", affinity: .local, policy: policy(order: ["west", "north"], spill: .gradual),
            backends: ["east": "uddd", "west": "ud", "north": "uu"], shares: ["east": 35, "west": 65]),
        Row(name: "gradual: too little health everywhere is shared in proportion", affinity: .local, policy: policy(spill: .gradual),
            backends: ["east": "uddd", "west": "uddd"], shares: ["east": 50, "west": 50]),
        // cluster-weights with affinity none.
        Row(name: "weights east=3,west=1", affinity: .none, policy: policy(weights: ["east": 3, "west": 1]),
            backends: ["east": "uu", "west": "uuu"], shares: ["east": 75, "west": 25]),
        Row(name: "weights: unlisted clusters weigh 1; a cluster without healthy backends gets none", affinity: .none,
            policy: policy(weights: ["east": 2]), backends: ["east": "u", "west": "u", "north": "d"], shares: ["east": 67, "west": 33]),
        // panic.
        Row(name: "panic: no healthy backend anywhere, every one not drained is tried", affinity: .local,
            backends: ["east": "dd", "west": "dx"], shares: ["east": 67, "west": 33]),
        Row(name: "panic off: nothing", affinity: .local, policy: policy(panic: false), backends: ["east": "dd", "west": "dd"], shares: [:]),
    ]

    @Test("each policy and their combinations give the expected shares", arguments: rows)
    func shares(_ row: Row) {
        let plan = RoutePlanner.plan(RoutePlanInput(
            localCluster: Self.east, isGlobal: row.global, affinity: row.affinity, policy: row.policy,
            candidates: Self.candidates(row.backends), now: Self.now))
        #expect(Self.shares(plan) == row.shares, "\(plan.explanation)")
        let total = plan.weighted.reduce(0) { $0 + $1.weight }
        #expect(plan.weighted.isEmpty || abs(total - 1) < 1e-9, "shares sum to 1: \(total)")
        let planned = Set(plan.weighted.map(\.backend.endpoint)).union(plan.excluded.map(\.backend.endpoint))
        #expect(planned.count == row.backends.reduce(0) { $0 + $1.value.count }, "every backend is weighted or excluded with a reason")
    }

    @Test("every excluded backend says why, in Cilium's words where the policy is Cilium's")
    func reasons() {
        let plan = RoutePlanner.plan(RoutePlanInput(
            localCluster: Self.east, isGlobal: true, affinity: .local, candidates: Self.candidates(["east": "udx", "west": "u"]), now: Self.now))
        let reasons = Dictionary(grouping: plan.excluded, by: \.backend.cluster.rawValue).mapValues { $0.map(\.reason).sorted() }
        #expect(reasons["east"] == [Ineligibility.drained.rawValue, Ineligibility.unhealthy.rawValue])
        #expect(reasons["west"] == [Ineligibility.preferLocal.rawValue])
        #expect(plan.explanation == "affinity=local: local (east) 1 of 2 healthy → 100%; others (west) 1 of 1 healthy → 0%.", "\(plan.explanation)")
        let ordered = RoutePlanner.plan(RoutePlanInput(
            localCluster: Self.east, isGlobal: true, affinity: .local, policy: Self.policy(order: ["west"], min: .count(2)),
            candidates: Self.candidates(["east": "ud", "west": "uu", "north": "uu"]), now: Self.now))
        #expect(ordered.excluded.first { $0.backend.cluster.rawValue == "east" && $0.reason.contains("fewer") }?.reason
            == "local has 1 of 2 healthy, fewer than min-healthy 2")
        #expect(ordered.excluded.contains { $0.backend.cluster.rawValue == "north" && $0.reason == "failover order: west takes new connections first" })
        let panic = RoutePlanner.plan(RoutePlanInput(
            localCluster: Self.east, isGlobal: true, affinity: .local, candidates: Self.candidates(["east": "dd", "west": "dd", "north": "dd"]), now: Self.now))
        #expect(panic.isPanic && panic.explanation.hasSuffix("; panic: no healthy backend anywhere, trying all 6."), "\(panic.explanation)")
    }

    @Test("failback: a recovered tier waits out the delay, then its share ramps up linearly", arguments: [
        (10, ["west": 100]),           // within the 30 s delay: held
        (30, ["west": 100]),           // delay over, ramp at 0 %
        (45, ["east": 25, "west": 75]), // a quarter through the 60 s ramp
        (90, ["east": 100]),           // ramp done
    ])
    func failback(_ secondsUp: Int, _ expected: [String: Int]) {
        var policy = Self.policy()
        policy.failbackDelay = .seconds(30)
        policy.failbackRamp = .seconds(60)
        let plan = RoutePlanner.plan(RoutePlanInput(
            localCluster: Self.east, isGlobal: true, affinity: .local, policy: policy, candidates: Self.candidates(["east": "uu", "west": "uu"]),
            recovered: ["local": Self.now - .seconds(secondsUp)], now: Self.now))
        #expect(Self.shares(plan) == expected, "\(plan.explanation)")
        if secondsUp < 30 {
            #expect(plan.explanation.contains("failback delay: available for \(secondsUp)s of 30s"), "\(plan.explanation)")
        }
    }

    @Test("a held tier says how long it has been available in whole seconds")
    func heldInWholeSeconds() {
        var policy = Self.policy()
        policy.failbackDelay = .seconds(30)
        let plan = RoutePlanner.plan(RoutePlanInput(
            localCluster: Self.east, isGlobal: true, affinity: .local, policy: policy, candidates: Self.candidates(["east": "uu", "west": "uu"]),
            recovered: ["local": Self.now - .milliseconds(3916)], now: Self.now))
        #expect(plan.tiers.first { $0.label == "local" }?.held == "failback delay: available for 3s of 30s")
    }

    @Test("recoveries: a tier that comes back is stamped; one that goes down loses its stamp; one never down has none")
    func recoveries() {
        let down = RoutePlanner.plan(RoutePlanInput(
            localCluster: Self.east, isGlobal: true, affinity: .local, candidates: Self.candidates(["east": "dd", "west": "uu"]), now: Self.now))
        var recovered = RoutePlanner.recoveries(previous: [:], wasAvailable: [:], plan: down, now: Self.now)
        #expect(recovered.isEmpty)
        let wasAvailable = Dictionary(uniqueKeysWithValues: down.tiers.map { ($0.label, $0.isAvailable) })
        let back = RoutePlanner.plan(RoutePlanInput(
            localCluster: Self.east, isGlobal: true, affinity: .local, candidates: Self.candidates(["east": "uu", "west": "uu"]), now: Self.now))
        let later = Self.now + .seconds(5)
        recovered = RoutePlanner.recoveries(previous: recovered, wasAvailable: wasAvailable, plan: back, now: later)
        #expect(recovered == ["local": later], "east came back; west was never down")
    }
}
