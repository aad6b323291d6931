import InterlinkCore
import Testing

struct BackendMergeTests {
    static func backend(_ address: String, _ cluster: String) -> Backend {
        Backend(endpoint: SocketEndpoint(address)!, cluster: try! ClusterName(cluster), state: .active)
    }

    @Test("local backends first, then remote ones by cluster; selection keeps a non-global service local")
    func merges() {
        let local = [Self.backend("10.0.0.1:80", "east")]
        let remote = [Self.backend("10.1.0.1:80", "west"), Self.backend("10.2.0.1:80", "north")]
        let merged = BackendMerge(local: local, remote: remote)
        #expect(merged.backends.map(\.backend.endpoint.description) == ["10.0.0.1:80", "10.2.0.1:80", "10.1.0.1:80"])
        #expect(merged.backends.map(\.isLocal) == [true, false, false])
        let candidates = merged.backends.map { BackendCandidate(backend: $0.backend, isLocal: $0.isLocal, isHealthy: true) }
        #expect(selectBackends(candidates, isGlobal: false, affinity: .none).eligible.map(\.endpoint) == [local[0].endpoint])
        #expect(selectBackends(candidates, isGlobal: true, affinity: .none).eligible.count == 3)
    }

    @Test("a remote backend at a local backend's address is dropped: the local one wins")
    func localWins() {
        let merged = BackendMerge(local: [Self.backend("10.0.0.1:80", "east")], remote: [Self.backend("10.0.0.1:80", "west")])
        #expect(merged.backends.map(\.isLocal) == [true])
        #expect(merged.backends.map(\.backend.cluster.rawValue) == ["east"])
    }
}
