import AsyncHTTPClient
import Foundation
import InterlinkCore
import NIOCore
import Testing

/// Interlink as a user deploys it: every agent and every demo backend as the unprivileged
/// user nobody (CI runs as root, so the test drops privileges with setpriv). Traffic, health
/// checks, the API and the store must all work.
@Suite(.serialized, .timeLimit(.minutes(5)), .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") && getuid() == 0,
    "needs root to drop privileges with setpriv (util-linux); CI runs as root"))
struct UnprivilegedTests {
    /// The cluster that answered an HTTP GET through `frontend` (`backend=NAME cluster=CLUSTER`).
    static func clusterAnswering(_ frontend: SocketEndpoint) async -> String? {
        var request = HTTPClientRequest(url: "http://\(frontend)/")
        request.headers.add(name: "Connection", value: "close")  // a new connection, so a new pick, each time
        guard let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(5)),
              response.status == .ok, let body = try? await response.body.collect(upTo: 4096)
        else { return nil }
        return String(buffer: body).split(separator: " ").first { $0.hasPrefix("cluster=") }?.dropFirst(8).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func uid(of process: Process) -> String? {
        let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)
        return status?.split(separator: "\n").first { $0.hasPrefix("Uid:") }?.split(separator: "\t").dropFirst().first.map(String.init)
    }

    @Test("agents and demo backends as nobody: a two-cluster mesh carries traffic, health checks fail a dead backend over, the API changes routing")
    func meshAsNobody() async throws {
        let mesh = try await Mesh.make(.embedded)
        var backends: [Process] = []
        defer { for process in backends where process.isRunning { process.terminate() } }
        for cluster in mesh.all {
            try cluster.addService("echo", port: 8060, annotations: ClusterMeshEndToEndTests.global)
            try cluster.handOverToNobody()
            cluster.launcher = InterlinkProcess.unprivileged
            await cluster.stopBackends()  // the in-process backends make way for `interlink backend` as nobody
            for index in 1...2 {
                let (process, _, _) = try InterlinkProcess.start(
                    ["backend", "--listen", cluster.backendEndpoint(index).description, "--name", "\(cluster.name)-b\(index)", "--cluster", cluster.name],
                    launcher: InterlinkProcess.unprivileged)
                backends.append(process)
            }
        }
        do {
            for cluster in mesh.all { try cluster.startAgent() }
            for cluster in mesh.all { #expect(await cluster.waitHealthy(), "\(cluster.name)'s agent answers as nobody") }
            for cluster in mesh.all { #expect(Self.uid(of: try #require(cluster.process)) == "65534") }
            for process in backends { #expect(Self.uid(of: process) == "65534") }
            try await Mesh.interlink(["connect", "--timeout", "20s"] + mesh.all.map(\.apiURL))
            let east = mesh.east
            #expect(await east.localBackendsUp(within: .seconds(10)), "active checks as nobody pass")

            // The store works: east routes to every cluster's backends (affinity none).
            var seen: Set<String> = []
            #expect(await waitUntil(.seconds(20)) {
                if let cluster = await Self.clusterAnswering(east.frontend(8060)) { seen.insert(cluster) }
                return seen == Set(mesh.all.map(\.name))
            }, "traffic through east reached \(seen)")

            // Health checks: east's backends die; checks mark them down, traffic goes on elsewhere.
            for process in backends.prefix(2) { process.terminate(); process.waitUntilExit() }
            #expect(await waitUntil(.seconds(10)) {
                let own = ((try? await east.backends()) ?? []).filter { $0.cluster == "east" }
                return own.count == 2 && own.allSatisfy { $0.health == "down" }
            }, "checks run as nobody marked east's dead backends down")
            var failures = 0
            for _ in 0..<30 where await Self.clusterAnswering(east.frontend(8060)) == nil { failures += 1 }
            #expect(failures == 0)

            // The API: a live change as nobody, saved in the store.
            try await Mesh.interlink(["annotate", "service", "default/echo", "service.cilium.io/affinity=remote", "--api", east.apiURL])
            #expect(try await east.services().services.first?.affinity == "remote")
        }
        let unclean = await mesh.shutdown()
        #expect(unclean.isEmpty, "every agent stopped cleanly: \(unclean)")
    }
}
