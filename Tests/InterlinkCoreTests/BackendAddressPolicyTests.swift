import InterlinkCore
import Testing

struct BackendAddressPolicyTests {
    static let policy = BackendAddressPolicy(
        ownListeners: [
            SocketEndpoint("127.0.0.1:9876")!: "the API", SocketEndpoint("0.0.0.0:9877")!: "the mesh port",
            SocketEndpoint("127.0.0.10:8080")!: "the frontend of Service default/echo",
        ],
        allowedRemote: [try! IPNetwork("127.2.0.0/16"), try! IPNetwork("fd00::/64")],
        deniedRemote: [try! IPNetwork("127.2.9.0/24")],
        hostAddresses: [IPAddress("127.5.5.5")!])

    @Test("refused for every backend: unspecified, broadcast, multicast, the agent's own listeners", arguments: [
        ("0.0.0.0:80", "unspecified"), ("[::]:80", "unspecified"), ("[::ffff:0.0.0.0]:80", "unspecified"),
        ("255.255.255.255:80", "broadcast"), ("224.0.0.1:80", "multicast"), ("239.1.2.3:80", "multicast"), ("[ff02::1]:80", "multicast"),
        ("127.0.0.1:9876", "the API"), ("127.0.0.10:8080", "the frontend of Service default/echo"),
        ("127.0.0.1:9877", "the mesh port"), ("127.9.9.9:9877", "the mesh port"), ("127.5.5.5:9877", "the mesh port"),
        ("[::ffff:127.0.0.1]:9876", "the API"),
    ])
    func alwaysRefused(_ address: String, _ reason: String) throws {
        let endpoint = try #require(SocketEndpoint(address))
        for isLocal in [true, false] {
            let refusal = try #require(Self.policy.refusal(endpoint, isLocal: isLocal), "\(address) was allowed")
            #expect(refusal.contains(reason), "\(refusal)")
        }
    }

    @Test("local backends may be anywhere else; the CIDR lists restrict remote ones only", arguments: [
        ("127.0.0.11:9000", true, true), ("127.0.0.1:9875", true, true), ("127.3.0.1:80", true, true),
        ("127.2.0.5:80", false, true), ("[fd00::5]:80", false, true),
        ("127.3.0.1:80", false, false), ("127.2.9.1:80", false, false), ("[fd01::5]:80", false, false),
    ])
    func cidrs(_ address: String, _ isLocal: Bool, _ allowed: Bool) throws {
        let refusal = Self.policy.refusal(try #require(SocketEndpoint(address)), isLocal: isLocal)
        #expect((refusal == nil) == allowed, "\(address): \(refusal ?? "allowed")")
    }

    @Test("CIDRs parse; host bits, bad lengths and non-addresses are refused", arguments: [
        ("10.0.0.0/8", true), ("127.0.0.1", true), ("::/0", true), ("fd00::/64", true),
        ("10.0.0.1/8", false), ("10.0.0.0/33", false), ("fd00::/129", false), ("10.0.0.0/-1", false), ("10.0.0.0/", false), ("host/8", false), ("", false),
    ])
    func parsesNetworks(_ text: String, _ valid: Bool) {
        #expect(((try? IPNetwork(text)) != nil) == valid)
    }

    @Test("a refused backend is never eligible and keeps no cluster preferred")
    func selectionSkipsRefused() throws {
        let west = try ClusterName("west"), east = try ClusterName("east")
        let local = BackendCandidate(
            backend: Backend(endpoint: SocketEndpoint("0.0.0.0:9000")!, cluster: east, state: .active), isLocal: true, isHealthy: true,
            refusal: "unspecified")
        let remote = BackendCandidate(
            backend: Backend(endpoint: SocketEndpoint("127.2.0.5:9000")!, cluster: west, state: .active), isLocal: false, isHealthy: true)
        let selection = selectBackends([local, remote], isGlobal: true, affinity: .local)
        #expect(selection.eligible.map(\.endpoint) == [remote.backend.endpoint], "the remote cluster takes over")
        #expect(selection.verdicts.first?.ineligibility == .refusedAddress)
        let explanation = explainSelection(localCluster: "east", isGlobal: true, affinity: .local, backends: [
            ExplainedBackend(cluster: "east", isLocal: true, state: .active, isHealthy: true, isEligible: false, isRefused: true),
            ExplainedBackend(cluster: "west", isLocal: false, state: .active, isHealthy: true, isEligible: true),
        ])
        #expect(explanation.contains("east has 0 of 1 backend healthy (1 refused: address never dialled)"), "\(explanation)")
    }
}
