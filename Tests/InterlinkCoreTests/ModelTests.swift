import InterlinkCore
import Testing

struct ModelTests {
    @Test("valid cluster names", arguments: ["east", "a", "cluster-1", "0abc9", String(repeating: "a", count: 32)])
    func validClusterNames(_ name: String) throws {
        #expect(try ClusterName(name).rawValue == name)
    }

    @Test("invalid cluster names are refused", arguments: ["", "East", "-east", "east-", "us_east", "east.1", String(repeating: "a", count: 33)])
    func invalidClusterNames(_ name: String) {
        #expect(throws: InvalidValue.self) { try ClusterName(name) }
    }

    @Test("cluster IDs are 1 to 255; 0 is reserved", arguments: [(0, false), (1, true), (255, true), (256, false), (-1, false)])
    func clusterIDs(_ value: Int, _ valid: Bool) {
        #expect(((try? ClusterID(value)) != nil) == valid)
    }

    @Test("with --max-connected-clusters 511, cluster IDs are 1 to 511; only 255 and 511 are mesh sizes",
          arguments: [(0, false), (1, true), (256, true), (511, true), (512, false)])
    func extendedClusterIDs(_ value: Int, _ valid: Bool) throws {
        #expect(((try? ClusterID(value, maxConnectedClusters: .extended)) != nil) == valid)
        #expect(throws: InvalidValue.self) { try MaxConnectedClusters(256) }
        #expect(try MaxConnectedClusters(511) == .extended)
        if value == 256 {
            let error = #expect(throws: InvalidValue.self) { try ClusterID(256) }
            #expect(error.map { "\($0)" }?.contains("--max-connected-clusters 511") == true, "the error says how to get IDs past 255")
        }
    }

    @Test("backend state from EndpointSlice conditions", arguments: [
        (Bool?.none, Bool?.none, Bool?.none, BackendState.active),
        (true, true, false, .active),
        (false, true, true, .terminating),
        (false, false, true, .maintenance),
        (false, true, false, .maintenance),
        (false, nil, nil, .maintenance),
    ])
    func backendStates(_ ready: Bool?, _ serving: Bool?, _ terminating: Bool?, _ expected: BackendState) {
        #expect(BackendState(ready: ready, serving: serving, terminating: terminating) == expected)
    }

    @Test("socket endpoints parse and print canonically", arguments: [
        ("127.0.0.1:80", "127.0.0.1:80"), ("[::1]:8080", "[::1]:8080"), ("[2001:db8:0::1]:1", "[2001:db8::1]:1"),
    ])
    func endpoints(_ text: String, _ canonical: String) {
        #expect(SocketEndpoint(text)?.description == canonical)
    }

    @Test("bad socket endpoints are refused", arguments: ["127.0.0.1", "127.0.0.1:0", "127.0.0.1:70000", "::1:80", "host:80", "[::1]80"])
    func badEndpoints(_ text: String) {
        #expect(SocketEndpoint(text) == nil)
    }

    @Test("durations in Go syntax", arguments: [("2s", 2000), ("500ms", 500), ("1m30s", 90000), ("1.5h", 5_400_000)])
    func durations(_ text: String, _ milliseconds: Int64) throws {
        #expect(try DurationText.parse("8760h") == DurationText.maximum)
        #expect(try DurationText.parse(text) == .milliseconds(milliseconds))
    }

    @Test("bad durations are refused, and so are durations past one year instead of overflowing", arguments: [
        "", "2", "s", "2x", "1d", "-", "99999999999s", "1e300s", "8761h", "8760h1s", "5ms8760h", "5000h5000h", String(repeating: "9", count: 400) + "s",
    ])
    func badDurations(_ text: String) {
        #expect(throws: InvalidValue.self) { try DurationText.parse(text) }
    }
}
