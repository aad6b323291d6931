import InterlinkCore
import Testing

/// DESIGN.md §3, as a table: candidates (L = local, R = remote; a = active, t = terminating,
/// m = maintenance; x = marked down) → the eligible ones.
struct SelectionTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var global: Bool
        var affinity: ServiceAffinity
        var candidates: [String]
        var eligible: [String]
        var testDescription: String { name }
    }

    static func candidate(_ code: String, index: Int) -> BackendCandidate {
        let chars = Array(code)
        let state: BackendState = chars[1] == "a" ? .active : chars[1] == "t" ? .terminating : .maintenance
        let endpoint = SocketEndpoint(ip: IPAddress("10.0.0.\(index + 1)")!, port: 80)
        let cluster = try! ClusterName(chars[0] == "L" ? "here" : "there")
        return BackendCandidate(backend: Backend(endpoint: endpoint, cluster: cluster, state: state), isLocal: chars[0] == "L", isHealthy: !code.hasSuffix("x"))
    }

    static let cases: [Case] = [
        Case(name: "not global: local only", global: false, affinity: .none, candidates: ["La", "Ra"], eligible: ["La"]),
        Case(name: "not global ignores affinity", global: false, affinity: .remote, candidates: ["La", "Ra"], eligible: ["La"]),
        Case(name: "none: everything", global: true, affinity: .none, candidates: ["La", "Ra", "Ra"], eligible: ["La", "Ra", "Ra"]),
        Case(name: "local: local while one is healthy", global: true, affinity: .local, candidates: ["La", "Lax", "Ra"], eligible: ["La"]),
        Case(name: "local: all local down → remote", global: true, affinity: .local, candidates: ["Lax", "Lax", "Ra", "Ra"], eligible: ["Ra", "Ra"]),
        Case(name: "local: only terminating local → remote joins, active wins", global: true, affinity: .local, candidates: ["Lt", "Ra"], eligible: ["Ra"]),
        Case(name: "local: no backends anywhere", global: true, affinity: .local, candidates: ["Lax", "Rax"], eligible: []),
        Case(name: "remote: remote while one is healthy", global: true, affinity: .remote, candidates: ["La", "Ra", "Rax"], eligible: ["Ra"]),
        Case(name: "remote: all remote down → local", global: true, affinity: .remote, candidates: ["La", "Rax"], eligible: ["La"]),
        Case(name: "remote: healthy terminating remote still counts", global: true, affinity: .remote, candidates: ["La", "Rt"], eligible: ["Rt"]),
        Case(name: "terminating only when no active", global: false, affinity: .none, candidates: ["La", "Lt"], eligible: ["La"]),
        Case(name: "terminating fallback", global: false, affinity: .none, candidates: ["Lax", "Lt", "Lm"], eligible: ["Lt"]),
        Case(name: "maintenance never", global: false, affinity: .none, candidates: ["Lm"], eligible: []),
        Case(name: "down never", global: true, affinity: .none, candidates: ["Lax", "Rax", "Ra"], eligible: ["Ra"]),
    ]

    @Test("eligible backends", arguments: cases)
    func eligibility(_ test: Case) {
        let candidates = test.candidates.enumerated().map { Self.candidate($1, index: $0) }
        let selection = selectBackends(candidates, isGlobal: test.global, affinity: test.affinity)
        let codes = selection.eligible.map { backend in test.candidates[Int(backend.endpoint.ip.bytes[3]) - 1] }
        #expect(codes == test.eligible)
        #expect(selection.verdicts.count == candidates.count, "every candidate gets a verdict")
    }

    @Test("each ineligible backend says why")
    func reasons() {
        let candidates = ["La", "Ra", "Lax", "Lm", "Lt"].enumerated().map { Self.candidate($1, index: $0) }
        let local = selectBackends(candidates, isGlobal: true, affinity: .local)
        #expect(local.verdicts.map(\.ineligibility) == [nil, .preferLocal, .unhealthy, .maintenance, .terminatingWithActivePeers])
        let notGlobal = selectBackends(candidates, isGlobal: false, affinity: .local)
        #expect(notGlobal.verdicts[1].ineligibility == .remoteOfNonGlobalService)
    }
}
