import InterlinkCore
import Testing

/// The routing-policy annotations (`interlink.io/cluster-order`, `min-healthy`, `spill`,
/// `failback-delay`, `failback-ramp`, `cluster-weights`, `panic`) as a manifest gives them.
struct RoutingAnnotationTests {
    static func parse(_ annotations: [String: String]) -> (RoutingPolicy?, [String]) {
        var problems: [String] = []
        let parsed = ServiceAnnotations.parse(annotations.merging([ServiceAnnotations.global: "true"]) { a, _ in a }) {
            problems.append("\($0): \($1) \($2)")
        }
        return (parsed?.routing, problems)
    }

    @Test("no annotation: Cilium's behaviour (no order, one healthy backend, all or nothing, immediate failback, no weights) plus panic")
    func defaults() {
        let (policy, problems) = Self.parse([:])
        #expect(problems.isEmpty)
        #expect(policy == RoutingPolicy())
        #expect(policy?.panic == true && policy?.spill == .allOrNothing && policy?.minimumHealthy == .count(1))
    }

    @Test("every annotation is read")
    func everyAnnotation() throws {
        let (policy, problems) = Self.parse([
            ServiceAnnotations.clusterOrder: " west, north ", ServiceAnnotations.minHealthy: "50%", ServiceAnnotations.spill: "Gradual",
            ServiceAnnotations.failbackDelay: "30s", ServiceAnnotations.failbackRamp: "1m", ServiceAnnotations.panic: "false",
            ServiceAnnotations.affinity: "local",
        ])
        #expect(problems.isEmpty, "\(problems)")
        let parsed = try #require(policy)
        #expect(parsed.clusterOrder.map(\.rawValue) == ["west", "north"])
        #expect(parsed.minimumHealthy == .percent(50))
        #expect(parsed.spill == .gradual)
        #expect(parsed.failbackDelay == .seconds(30) && parsed.failbackRamp == .seconds(60))
        #expect(!parsed.panic)
        let (weighted, weightProblems) = Self.parse([ServiceAnnotations.clusterWeights: "east=3, west=1", ServiceAnnotations.minHealthy: "2"])
        #expect(weightProblems.isEmpty)
        #expect(weighted?.clusterWeights == [try ClusterName("east"): 3, try ClusterName("west"): 1])
        #expect(weighted?.minimumHealthy == .count(2))
    }

    @Test("a bad value names the annotation, the value and what is expected", arguments: [
        (ServiceAnnotations.clusterOrder, "west,West", "bad cluster name"),
        (ServiceAnnotations.clusterOrder, "west,,north", "expected cluster names separated by commas"),
        (ServiceAnnotations.clusterOrder, "west,west", "names cluster west twice"),
        (ServiceAnnotations.minHealthy, "0", "from 1 to 10000"),
        (ServiceAnnotations.minHealthy, "150%", "from 1% to 100%"),
        (ServiceAnnotations.minHealthy, "99999999999999999999", "from 1 to 10000"),
        (ServiceAnnotations.spill, "some", "expected all-or-nothing or gradual"),
        (ServiceAnnotations.failbackDelay, "2h", "from 0s to 1h"),
        (ServiceAnnotations.failbackRamp, "soon", "expected a duration"),
        (ServiceAnnotations.clusterWeights, "east=-1", "bad entry east=-1"),
        (ServiceAnnotations.clusterWeights, "east", "expected CLUSTER=WEIGHT"),
        (ServiceAnnotations.clusterWeights, "east=1,east=2", "names cluster east twice"),
        (ServiceAnnotations.panic, "yes", "expected \"true\" or \"false\""),
    ])
    func badValues(_ field: String, _ value: String, _ fragment: String) {
        let (policy, problems) = Self.parse([field: value])
        #expect(policy == nil, "refused")
        #expect(problems.count == 1 && problems[0].hasPrefix("\(field): \(value)") && problems[0].contains(fragment), "\(problems)")
    }

    @Test("weights apply only with affinity none: with local they are refused, naming both annotations")
    func weightsNeedAffinityNone() {
        let (policy, problems) = Self.parse([ServiceAnnotations.clusterWeights: "east=3", ServiceAnnotations.affinity: "local"])
        #expect(policy == nil)
        #expect(problems.first?.contains(ServiceAnnotations.affinity) == true && problems.first?.contains("local") == true, "\(problems)")
    }

    @Test("interlink annotate changes the policy, and a bad change leaves the spec as it was")
    func liveChange() throws {
        let spec = ServiceSpec(name: ServiceName(namespace: "default", name: "echo"), clusterIP: try #require(IPAddress("127.0.0.1")), ports: [], isGlobal: true)
        let changed = try spec.annotated([ServiceAnnotations.clusterOrder: "north", ServiceAnnotations.spill: "gradual"])
        #expect(changed.routing.clusterOrder.map(\.rawValue) == ["north"] && changed.routing.spill == .gradual)
        #expect(throws: AnnotationErrors.self) { try changed.annotated([ServiceAnnotations.spill: "sometimes"]) }
        #expect(try changed.annotated([ServiceAnnotations.spill: nil]).routing.spill == .allOrNothing, "removing it restores the default")
    }
}
