import AsyncHTTPClient
import Foundation
import Testing

/// `GET /metrics` as Prometheus scrapes it, on a two-cluster mesh with traffic and a failover.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct MetricsTests {
    static func scrape(_ cluster: MeshCluster) async throws -> String {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: cluster.apiURL + "/metrics"), timeout: .seconds(5))
        #expect(response.headers.first(name: "Content-Type")?.hasPrefix("text/plain") == true)
        return String(buffer: try await response.body.collect(upTo: 16 << 20))
    }

    /// New connections per cluster summed over `GET /v1/traffic`'s samples of `service`.
    static func trafficShares(_ cluster: MeshCluster, _ service: String) async throws -> [String: Int] {
        struct Sample: Decodable { var clusters: [String: Int] }
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: cluster.apiURL + "/v1/traffic"), timeout: .seconds(5))
        let document = try JSONDecoder().decode([String: [Sample]].self, from: Data(try await response.body.collect(upTo: 16 << 20).readableBytesView))
        return (document[service] ?? []).reduce(into: [:]) { sums, sample in sums.merge(sample.clusters, uniquingKeysWith: +) }
    }

    /// The value of the series whose line starts with `series` (name and labels as emitted).
    static func value(_ text: String, _ series: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
    }

    @Test("connections, latency, backends, failover state and remote clusters are exposed with bounded labels")
    func exposesTheMesh() async throws {
        let mesh = try await Mesh.make(.embedded)
        // Active checks every 10 minutes: only failed dials notice east's backends die, so the
        // failover below is always counted as failed dials, however slowly a loaded machine
        // gets from stopping the backends to the first connection.
        let annotations = ClusterMeshEndToEndTests.global.merging(["service.cilium.io/affinity": "local", "interlink.io/health-check-interval": "10m"]) { $1 }
        for cluster in [mesh.east, mesh.west] {
            try cluster.addService("echo", port: 8051, annotations: annotations)
        }
        do {
            for cluster in [mesh.east, mesh.west] { try cluster.startAgent() }
            for cluster in [mesh.east, mesh.west] { #expect(await cluster.waitHealthy()) }
            try await Mesh.interlink(["connect", "--timeout", "20s", mesh.east.apiURL, mesh.west.apiURL])
            _ = try await tallyBackends(mesh.east.frontend(8051), 40)

            // The dashboard's history (sampled every second) counts the same connections.
            let counted = await waitUntil(.seconds(5)) { (try? await Self.trafficShares(mesh.east, "default/echo")) == ["east": 40] }
            let shares = try? await Self.trafficShares(mesh.east, "default/echo")
            #expect(counted, "\(String(describing: shares))")

            var text = try await Self.scrape(mesh.east)
            #expect(Self.value(text, #"interlink_connections_opened_total{service="default/echo",cluster="east"}"#) == 40, "\(text.prefix(3000))")
            #expect(Self.value(text, #"interlink_connect_duration_seconds_count{service="default/echo",cluster="east"}"#) == 40)
            // Each test backend greets with its name and a newline: at least 9 bytes per connection.
            #expect((Self.value(text, #"interlink_sent_bytes_total{service="default/echo",cluster="east"}"#) ?? 0) >= 40 * 9)
            #expect(Self.value(text, #"interlink_backends{service="default/echo",cluster="west",condition="healthy"}"#) == 2)
            #expect(Self.value(text, #"interlink_backends{service="default/echo",cluster="west",condition="eligible"}"#) == 0)
            #expect(Self.value(text, #"interlink_service_failover{service="default/echo"}"#) == 0)
            #expect(Self.value(text, #"interlink_remote_cluster_connected{cluster="west"}"#) == 1)
            #expect(Self.value(text, #"interlink_remote_cluster_backends{cluster="west"}"#) == 2)
            #expect(text.contains(#"interlink_backend_healthy{service="default/echo",backend="\#(mesh.east.backendEndpoint(1))"} 1"#))

            // Failover: east's backends die; the traffic and the state move to west.
            await mesh.east.stopBackends()
            _ = try await tallyBackends(mesh.east.frontend(8051), 20)
            text = try await Self.scrape(mesh.east)
            #expect(Self.value(text, #"interlink_connections_opened_total{service="default/echo",cluster="west"}"#) == 20)
            #expect((Self.value(text, #"interlink_connect_failures_total{service="default/echo",cluster="east"}"#) ?? 0) >= 1)
            #expect(Self.value(text, #"interlink_service_failover{service="default/echo"}"#) == 1)
            #expect(!text.contains("127.0.0.1:"), "no client address in any label")
            let typeLines = text.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }
            #expect(Set(typeLines).count == typeLines.count, "each family is declared once")
            #expect(typeLines.contains("# TYPE interlink_connect_duration_seconds histogram"))

            // A disconnected cluster's state goes with it (its connect-latency histogram, which is
            // history, stays); the counters of the local cluster stay.
            try await Mesh.interlink(["disconnect", mesh.east.apiURL, mesh.west.apiURL])
            #expect(await waitUntil(.seconds(10)) {
                (try? await Self.scrape(mesh.east)).map { scrape in
                    !scrape.split(separator: "\n").contains { $0.contains(#"cluster="west""#) && !$0.hasPrefix("interlink_connect_duration_seconds") }
                } ?? false
            }, "no state series of west is left")
            text = try await Self.scrape(mesh.east)
            #expect(Self.value(text, #"interlink_connect_duration_seconds_count{service="default/echo",cluster="west"}"#) == 20)
            #expect(Self.value(text, #"interlink_connections_opened_total{service="default/echo",cluster="east"}"#) == 40)
        } catch {
            await mesh.shutdown()
            throw error
        }
        await mesh.shutdown()
    }
}
