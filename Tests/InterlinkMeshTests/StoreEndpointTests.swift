import InterlinkMesh
import Testing

struct StoreEndpointTests {
    @Test("store endpoints: scheme, host (IPv4, [IPv6], DNS), port with etcd's default", arguments: [
        ("https://127.0.0.1:2379", true, "127.0.0.1", 2379),
        ("http://[::1]:9877/", false, "::1", 9877),
        ("https://cluster1.mesh.cilium.io", true, "cluster1.mesh.cilium.io", 2379),
    ])
    func parses(_ text: String, _ tls: Bool, _ host: String, _ port: Int) throws {
        let endpoint = try StoreEndpoint(text)
        #expect(endpoint.isTLS == tls && endpoint.host == host && endpoint.port == port)
        #expect(!endpoint.url.hasSuffix("/"))
    }

    @Test("what is not an endpoint is refused, saying why", arguments: [
        ("127.0.0.1:2379", "is not an http:// or https:// URL"),
        ("", "(empty) is not an http:// or https:// URL"),
        ("https://127.0.0.1:2379/v3", "has a path"),
        ("https://user@127.0.0.1:2379", "more than a scheme, host and port"),
        ("https://127.0.0.1:0", "outside 1-65535"),
        ("https://:2379", "is not a URL"),
    ])
    func refuses(_ text: String, _ reason: String) {
        do {
            let endpoint = try StoreEndpoint(text)
            Issue.record("accepted \(endpoint)")
        } catch {
            #expect(error.description.contains(reason), "\(error)")
        }
    }
}
