import Foundation
import Testing

/// The web dashboard in a real browser: headless Chromium (Debian's `chromium`) renders the
/// page of a live two-cluster mesh under traffic; the test reads the rendered DOM and keeps a
/// screenshot in `artifacts/dashboard.png`.
@Suite(.serialized, .timeLimit(.minutes(5)), .enabled(if: Chromium.path != nil, "needs chromium (apt-get install -y chromium; .ci/run does it)"))
struct DashboardTests {
    static var artifacts: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("artifacts")
    }

    /// Runs headless Chromium on `url` for a few seconds of page time with `arguments`.
    static func browse(_ url: String, _ arguments: [String]) async throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Chromium.path!)
        process.arguments = [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--virtual-time-budget=5000",
            "--window-size=1100,1000",
        ] + arguments + [url]
        return String(decoding: try await ChildProcess.run(process).stdout, as: UTF8.self)
    }

    @Test("the page shows the clusters, the share chart with traffic in both clusters, every backend and the explanation")
    func rendersTheMesh() async throws {
        let mesh = try await Mesh.make(.embedded)
        for cluster in [mesh.east, mesh.west] {
            try cluster.addService("echo", port: 8061, annotations: ClusterMeshEndToEndTests.global)
        }
        do {
            for cluster in [mesh.east, mesh.west] { try cluster.startAgent() }
            for cluster in [mesh.east, mesh.west] { #expect(await cluster.waitHealthy()) }
            try await Mesh.interlink(["connect", "--timeout", "20s", mesh.east.apiURL, mesh.west.apiURL])
            // Traffic starts once east routes to west's backends too, so that both clusters have
            // a share in the chart's last seconds however slowly a loaded machine gets there.
            #expect(await waitUntil(.seconds(10)) {
                ((try? await mesh.east.backends()) ?? []).filter { $0.cluster == "west" && $0.eligible }.count == 2
            }, "east routes to west's two backends")
            // Until the page has been read (cancelled then): a browser started on a loaded
            // machine can take longer than any fixed run, and the legend shows the last seconds.
            let traffic = Task { await hammer(mesh.east.frontend(8061), for: .seconds(120)) }
            defer { traffic.cancel() }
            // The agent samples new connections per cluster every second; the page's legend
            // sums the last five samples. The page is opened once both clusters are in them and
            // the chart has a few points, so that what is checked is what the page renders of
            // the agent's data.
            let inBoth = await waitUntil(.seconds(15)) {
                let samples = ((try? await mesh.east.traffic()) ?? [:])["default/echo"] ?? []
                let last = samples.suffix(5)
                return samples.count >= 3 && ["east", "west"].allSatisfy { cluster in last.contains { ($0.clusters[cluster] ?? 0) > 0 } }
            }
            if !inBoth {
                let rows = ((try? await mesh.east.backends()) ?? []).map { "\($0.cluster) \($0.address) eligible=\($0.eligible) total=\($0.totalConnections) failedDials=\($0.failedDials)" }
                Issue.record("east's last five traffic samples never held both clusters: \(String(describing: try? await mesh.east.traffic()["default/echo"]?.suffix(5).map(\.clusters))); backends: \(rows)")
            }

            // The legend sums the page's last five seconds; a browser that starts slowly on a
            // loaded machine can render a window in which the one-at-a-time traffic reached only
            // one cluster. Up to three renders, each once the agent's own last five samples hold
            // both clusters again: the page must show what the agent has.
            func legendShares(_ dom: String) -> [String: Int] {
                var shares: [String: Int] = [:]
                for cluster in ["east", "west"] {
                    let share = dom.firstMatch(of: try! Regex("data-share-cluster=\"\(cluster)\"><span[^>]*></span>\(cluster) (\\d+)%"))
                    shares[cluster] = share.flatMap { Int($0.output[1].substring ?? "") } ?? 0
                }
                return shares
            }
            var dom = try await Self.browse(mesh.east.apiURL + "/", ["--dump-dom"])
            for _ in 0..<2 where legendShares(dom).values.contains(0) {
                _ = await waitUntil(.seconds(15)) {
                    let last = (((try? await mesh.east.traffic()) ?? [:])["default/echo"] ?? []).suffix(5)
                    return ["east", "west"].allSatisfy { cluster in last.contains { ($0.clusters[cluster] ?? 0) > 0 } }
                }
                dom = try await Self.browse(mesh.east.apiURL + "/", ["--dump-dom"])
            }
            #expect(dom.contains(#"class="cluster-node" data-cluster="east" data-connected="true""#), "\(dom.suffix(2000))")
            #expect(dom.contains(#"class="cluster-node" data-cluster="west" data-connected="true""#))
            #expect(dom.contains(#"data-service="default/echo""#))
            #expect(dom.contains("affinity=none: new connections spread over every healthy backend"))
            let points = dom.firstMatch(of: /class="share-chart" data-points="(\d+)"/).flatMap { Int($0.1) } ?? 0
            #expect(points >= 2, "the chart has points")
            for cluster in ["east", "west"] {
                let percent = legendShares(dom)[cluster] ?? 0
                #expect(percent > 0, "\(cluster) takes a share of the traffic: \(dom.firstMatch(of: /data-share-cluster[^\n]{0,300}/).map { String($0.output) } ?? "no legend")")
            }
            for index in 1...2 {
                for cluster in [mesh.east, mesh.west] {
                    #expect(dom.contains(#"class="backend-row" data-cluster="\#(cluster.name)" data-backend="\#(cluster.backendEndpoint(index))""#))
                }
            }

            try FileManager.default.createDirectory(at: Self.artifacts, withIntermediateDirectories: true)
            let screenshot = Self.artifacts.appendingPathComponent("dashboard.png")
            try? FileManager.default.removeItem(at: screenshot)
            _ = try await Self.browse(mesh.east.apiURL + "/", ["--screenshot=\(screenshot.path)"])
            let size = (try? FileManager.default.attributesOfItem(atPath: screenshot.path)[.size] as? Int) ?? 0
            #expect(size > 10_000, "a screenshot was kept at \(screenshot.path)")
        } catch {
            await mesh.shutdown()
            throw error
        }
        await mesh.shutdown()
    }
}

enum Chromium {
    static var path: String? {
        ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
