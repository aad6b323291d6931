import InterlinkCore
import Testing

struct SelectionExplanationTests {
    static func backends(_ spec: [(String, BackendState, Bool, Bool)]) -> [ExplainedBackend] {
        spec.map { ExplainedBackend(cluster: $0.0, isLocal: $0.0 == "east", state: $0.1, isHealthy: $0.2, isEligible: $0.3) }
    }

    @Test("each affinity outcome is said in words, with the counts and the reasons", arguments: [
        (ServiceAffinity.local, [("east", BackendState.active, false, false), ("east", .active, false, false), ("east", .terminating, true, false),
                                 ("west", .active, true, true), ("west", .active, true, true), ("north", .active, true, true)],
         "affinity=local: east has 0 of 3 backends healthy (2 failed health checks, 1 terminating), so new connections go to north (1 healthy) and west (2 healthy)."),
        (.local, [("east", .active, true, true), ("west", .active, true, false)],
         "affinity=local: east has 1 of 1 backend healthy, so new connections stay in east; west takes over if none is left."),
        (.none, [("east", .active, true, true), ("west", .active, true, true), ("west", .maintenance, true, false)],
         "affinity=none: new connections spread over every healthy backend: east (1 healthy) and west (1 healthy)."),
        (.remote, [("east", .active, true, false), ("west", .active, true, true)],
         "affinity=remote: new connections go to west (1 healthy); east takes them only if no remote backend is healthy."),
        (.remote, [("east", .active, true, true), ("west", .active, false, false)],
         "affinity=remote: no remote cluster has a healthy backend (west 0 of 1), so new connections stay in east (1 healthy)."),
        (.none, [("east", .active, false, false), ("west", .active, false, false)],
         "affinity=none: no cluster has a backend that can take connections (east 0 of 1 and west 0 of 1), so new connections are refused."),
    ] as [(ServiceAffinity, [(String, BackendState, Bool, Bool)], String)])
    func explains(affinity: ServiceAffinity, spec: [(String, BackendState, Bool, Bool)], expected: String) {
        #expect(explainSelection(localCluster: "east", isGlobal: true, affinity: affinity, backends: Self.backends(spec)) == expected)
    }

    @Test("a service that is not global says so and names the clusters whose backends it ignores")
    func notGlobal() {
        let text = explainSelection(localCluster: "east", isGlobal: false, affinity: .none, backends: Self.backends([("east", .active, true, true), ("west", .active, true, false)]))
        #expect(text == "not global: new connections use only east's backends; east has 1 of 1 backend healthy. Backends that west exports for it are ignored: mark it global to use them.")
    }
}
