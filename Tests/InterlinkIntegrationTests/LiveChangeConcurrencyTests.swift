import AsyncHTTPClient
import Foundation
import InterlinkAgent
import NIOCore
import Testing

/// Live changes are serialised and saved before they are live: concurrent API calls lose
/// nothing, and what a restart restores is exactly what was live.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct LiveChangeConcurrencyTests {
    static func post(_ url: String, _ body: String) async -> Bool {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: body))
        guard let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(60)) else { return false }
        _ = try? await response.body.collect(upTo: 1 << 20)
        return response.status == .ok
    }

    static func serviceYAML(_ name: String, port: Int, subnet: Int, backendPort: UInt16) -> String {
        TestManifest(
            name: name, clusterIP: "127.0.\(subnet).10", port: UInt16(port), backendIPs: ["127.0.\(subnet).11"], backendPort: backendPort
        ).yaml
    }

    /// Each service with its annotations, as the API shows them.
    static func state(_ cluster: MeshCluster) async throws -> [String: [String: String]] {
        Dictionary(uniqueKeysWithValues: try await cluster.services().services.map { ("\($0.namespace)/\($0.name)", $0.annotations ?? [:]) })
    }

    @Test("50 concurrent annotate and apply calls: every acknowledged change is live, saved, and restored after a restart", arguments: StoreKind.allCases)
    func concurrentChanges(kind: StoreKind) async throws {
        try EtcdServer.require(for: kind)
        let subnet = kind == .embedded ? 122 : 123
        let cluster = try await MeshCluster(name: "east", id: 1, subnet: subnet, kind: kind, backendPort: try await freePort(on: "127.0.\(subnet).11"))
        try cluster.addService("echo", port: 8000, annotations: [:])
        try cluster.startAgent()
        #expect(await cluster.waitHealthy())
        let acknowledged = await withTaskGroup(of: (String, Bool).self) { group in
            for index in 0..<50 {
                group.addTask {
                    if index.isMultiple(of: 2) {
                        let body = #"{"set":{"test.interlink.io/k\#(index)":"v\#(index)"}}"#
                        return ("k\(index)", await Self.post(cluster.apiURL + "/v1/services/default/echo/annotations", body))
                    }
                    let yaml = Self.serviceYAML("s\(index)", port: 8100 + index, subnet: subnet, backendPort: cluster.backendPort)
                    let body = String(decoding: try! JSONEncoder().encode(["files": [["name": "s\(index).yaml", "yaml": yaml]]]), as: UTF8.self)
                    return ("s\(index)", await Self.post(cluster.apiURL + "/v1/manifests", body))
                }
            }
            var acknowledged: [String] = []
            for await (change, ok) in group where ok { acknowledged.append(change) }
            return acknowledged
        }
        #expect(acknowledged.count == 50, "every call was answered 200: \(acknowledged.count)")
        let live = try await Self.state(cluster)
        for change in acknowledged {
            if change.hasPrefix("k") {
                #expect(live["default/echo"]?["test.interlink.io/\(change)"] == "v\(change.dropFirst())", "\(change) is live")
            } else {
                #expect(live["default/\(change)"] != nil, "\(change) is live")
            }
        }
        if let process = cluster.process { process.terminate(); process.waitUntilExit() }
        try cluster.startAgent()
        #expect(await cluster.waitHealthy())
        #expect(await waitUntil(.seconds(20)) { (try? await Self.state(cluster)) == live }, "the restart restored exactly the live state")
        await cluster.shutdown()
    }
}
