import AsyncHTTPClient
import Foundation
@testable import InterlinkAgent
import InterlinkCore
import InterlinkMesh
import InterlinkProxy
import NIOCore
import NIOPosix
import Testing

/// The data planes under the loads a production proxy meets: ten thousand connections open at
/// once, a client that stops reading, and Maglev's choice for each client address. Each runs
/// against every data plane that ships.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct DataPlaneLoadTests {
    static let descriptorsFor10k: rlim_t = 60_000

    @Test("Maglev: each client address and port goes to the backend the Maglev table names", arguments: DataPlaneKind.allCases)
    func maglevFollowsTheTable(plane: DataPlaneKind) async throws {
        let (manifest, backends, agent) = try await ProxyIntegrationTests.setUp(
            plane: plane, subnet: 43, backends: 3, annotations: [ServiceAnnotations.algorithm: "maglev"])
        let sorted = backends.sorted { $0.endpoint < $1.endpoint }
        let table = MaglevTable(backends: sorted.map(\.endpoint))
        var seen: Set<String> = []
        for index in 0..<40 {
            let source = try SocketAddress(ipAddress: "127.0.43.\(100 + index)", port: 0)
            let connection = try await TestClient.open(manifest.frontend, from: source)
            let local = try #require(connection.channel.localAddress.flatMap { address in
                address.ipAddress.flatMap { ip in address.port.flatMap { SocketEndpoint("\(ip):\($0)") } }
            })
            let expected = try #require(table.backendIndex(forHash: MaglevTable.flowHash(client: local)))
            let name = try await connection.nextLine()
            #expect(name == sorted[expected].name, "client \(local)")
            seen.insert(name ?? "")
            await connection.close()
        }
        #expect(seen.count == 3, "40 client addresses reach every backend: \(seen)")
        try await agent.stop()
        for backend in backends { await backend.stop() }
    }

    @Test("a client that stops reading: the backend is held back (nothing piles up in the proxy), then every byte arrives", arguments: DataPlaneKind.allCases)
    func slowReaderIsBounded(plane: DataPlaneKind) async throws {
        let total = 96 << 20
        let port = try await freePort(on: "127.0.44.11")
        let backend = try await StreamingBackend(at: SocketEndpoint("127.0.44.11:\(port)")!, total: total)
        let manifest = TestManifest(
            clusterIP: "127.0.44.10", port: try await freePort(on: "127.0.44.10"), backendIPs: ["127.0.44.11"], backendPort: port,
            annotations: [ServiceAnnotations.healthCheckInterval: "1h"])
        let agent = try await RunningAgent(manifestsPath: try manifest.write(), dataPlane: plane)
        let (channel, received) = try await TestClient.openPaused(manifest.frontend)
        // The backend writes until every buffer between it and the client is full, then stops.
        var last = -1
        var stableSince = ContinuousClock.now
        let start = ContinuousClock.now
        while ContinuousClock.now - stableSince < .seconds(1), ContinuousClock.now - start < .seconds(20) {
            try await Task.sleep(for: .milliseconds(100))
            let written = backend.written
            if written != last { (last, stableSince) = (written, ContinuousClock.now) }
        }
        #expect(last > 0 && last < 48 << 20, "the backend stalled after \(last) bytes (socket buffers and one proxy chunk), not the whole \(total)")
        channel.read()
        try await channel.setOption(.autoRead, value: true).get()
        let exchange = try await received.get()
        #expect(exchange.hash == backend.expectedHash, "the client received all \(total) bytes intact: got \(exchange.hash.count)")
        try await agent.stop()
        await backend.stop()
    }

    @Test(
        "10,000 concurrent connections to an agent running as nobody: all open at once (past its descriptor budget they wait in the backlog), every one answered",
        .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") && getuid() == 0, "needs root to drop privileges with setpriv; CI runs as root"),
        .enabled(if: DescriptorHeadroom.raise(to: 16_000), "needs 16,000 descriptors in the test process for the clients (from 4096 up)"),
        arguments: DataPlaneKind.allCases)
    func tenThousandConnections(plane: DataPlaneKind) async throws {
        let count = 10_000
        let port = try await freePort(on: "127.0.45.11"), apiPort = try await freePort()
        let manifest = TestManifest(
            clusterIP: "127.0.45.10", port: try await freePort(on: "127.0.45.10"), backendIPs: ["127.0.45.11", "127.0.45.12"], backendPort: port,
            annotations: [ServiceAnnotations.healthCheckInterval: "1h"])
        let directory = try manifest.write()
        let dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("interlink-10k-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o777])
        let (backend, _, _) = try InterlinkProcess.start(
            ["backend", "--name", "b", "--listen", manifest.backendEndpoints()[0].description, "--listen", manifest.backendEndpoints()[1].description],
            launcher: InterlinkProcess.unprivileged)
        let (agent, _, agentErr) = try InterlinkProcess.start([
            "agent", "--manifests", directory, "--api-listen", "127.0.0.1:\(apiPort)", "--kvstore", "none", "--data-dir", dataDir,
            "--threads", "2", "--data-plane", plane.rawValue,
        ], launcher: InterlinkProcess.unprivileged)
        let errors = OutputCollector(agentErr)
        defer { for process in [agent, backend] where process.isRunning { process.terminate() } }
        let api = "http://127.0.0.1:\(apiPort)"
        #expect(await waitUntil(.seconds(30)) { await Self.metric("interlink_backend_healthy", api: api) == 2 }, "agent up: \(errors.text)")

        // Every client connects first and holds its connection.
        let open = try await RawConnections.open(count, to: manifest.frontend)
        #expect(open.count == count)
        // The agent proxies as many as its descriptor budget allows (two descriptors each).
        var limit = rlimit()
        getrlimit(DescriptorHeadroom.RLIMIT_NOFILE_VALUE, &limit)
        let budget = FileDescriptorBudget(
            limit: Int(limit.rlim_max), apiMaximum: HTTPServerLimits.api.maxConnections, meshMaximum: HTTPServerLimits.mesh.maxConnections)
        let expected = min(count, budget.proxyConnections)
        var held = 0.0
        #expect(await waitUntil(.seconds(30)) {
            held = await Self.metric("interlink_connections_active", api: api) ?? 0
            return held >= Double(expected)
        }, "the agent held \(held) connections; its budget is \(budget.proxyConnections)")

        // Then each asks and is answered, in turn; those waiting in the backlog get their turn
        // as others close.
        let answered = await RawConnections.exchange(open, request: "ping\n", expected: "b: ping")
        #expect(answered == count)
        #expect(await waitUntil(.seconds(30)) { await Self.metric("interlink_connections_active", api: api) == 0 })
        agent.interrupt()
        agent.waitUntilExit()
        #expect(agent.terminationStatus == 0, "\(errors.text)")
    }

    /// The sum of a metric's samples on the agent's /metrics.
    static func metric(_ name: String, api: String) async -> Double? {
        guard let response = try? await HTTPClient.shared.execute(HTTPClientRequest(url: "\(api)/metrics"), timeout: .seconds(5)),
            let body = try? await response.body.collect(upTo: 1 << 22)
        else { return nil }
        let samples = String(buffer: body).split(separator: "\n").filter { $0.hasPrefix(name + "{") || $0.hasPrefix(name + " ") }
        guard !samples.isEmpty else { return nil }
        return samples.compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }.reduce(0, +)
    }
}

/// Raises this process's descriptor limit for the tests that need many sockets.
enum DescriptorHeadroom {
    static func raise(to wanted: rlim_t) -> Bool {
        var limit = rlimit()
        guard getrlimit(RLIMIT_NOFILE_VALUE, &limit) == 0 else { return false }
        if limit.rlim_cur >= wanted { return true }
        var raised = rlimit(rlim_cur: wanted, rlim_max: max(wanted, limit.rlim_max))
        if setrlimit(RLIMIT_NOFILE_VALUE, &raised) == 0 { return true }
        raised.rlim_max = limit.rlim_max
        raised.rlim_cur = limit.rlim_max
        return limit.rlim_max >= wanted && setrlimit(RLIMIT_NOFILE_VALUE, &raised) == 0
    }

    #if os(Linux)
    static let RLIMIT_NOFILE_VALUE = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
    static let RLIMIT_NOFILE_VALUE = RLIMIT_NOFILE
    #endif
}
