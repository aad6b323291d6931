import Foundation
import InterlinkAgent
import InterlinkCore
import InterlinkProxy
import Testing

/// Backends that fail the slow ways: never answering a dial, answering a health path with
/// 500; and a shutdown whose grace period runs out with a connection still open.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct FaultyBackendTests {
    @Test("a backend that never answers: the connect timeout gives up on it, the next backend takes the connection, and it is marked down", arguments: DataPlaneKind.allCases)
    func neverAnswering(plane: DataPlaneKind) async throws {
        let port = try await freePort(on: "127.0.125.12")
        let silent = try await SilentListener.required(at: SocketEndpoint("127.0.125.11:\(port)")!)
        let live = try await TestBackend.start(name: "b2", at: SocketEndpoint("127.0.125.12:\(port)")!)
        let manifest = TestManifest(
            clusterIP: "127.0.125.10", port: try await freePort(on: "127.0.125.10"), backendIPs: ["127.0.125.11", "127.0.125.12"], backendPort: port,
            annotations: [ServiceAnnotations.healthCheckInterval: "1h"])  // only the failed dial may notice
        let agent = try await RunningAgent(manifestsPath: try manifest.write(), dataPlane: plane) { settings in
            settings.proxy.connectTimeout = .milliseconds(300)
            settings.proxy.maxAttempts = 2
        }
        for _ in 0..<20 {
            #expect(try await TestClient.firstLine(from: manifest.frontend) == "b2", "every client is answered, by the backend that answers")
        }
        let state = await agent.backend(silent.endpoint)
        #expect(state?.health == "down" && state?.healthDetail?.contains("timed out") == true, "\(String(describing: state))")
        try await agent.stop()
        await live.stop()
        await silent.stop()
    }

    @Test("a backend that resets new connections before sending anything: every client is answered by the other one, and it is marked down", arguments: DataPlaneKind.allCases)
    func resettingBeforeAnyByte(plane: DataPlaneKind) async throws {
        let port = try await freePort(on: "127.0.125.42")
        let resetting = try await ResettingListener(at: SocketEndpoint("127.0.125.41:\(port)")!)
        let live = try await TestBackend.start(name: "b2", at: SocketEndpoint("127.0.125.42:\(port)")!)
        let manifest = TestManifest(
            clusterIP: "127.0.125.40", port: try await freePort(on: "127.0.125.40"), backendIPs: ["127.0.125.41", "127.0.125.42"], backendPort: port,
            annotations: [ServiceAnnotations.healthCheckInterval: "1h"])  // only the reset may notice
        let agent = try await RunningAgent(manifestsPath: try manifest.write(), dataPlane: plane)
        for _ in 0..<20 {
            #expect(try await TestClient.firstLine(from: manifest.frontend) == "b2", "every client is answered, by the backend that answers")
        }
        let state = await agent.backend(resetting.endpoint)
        // The reset is seen after the connect completed ("reset before any byte") or, when it
        // comes first, as the connect's own failure ("Connection reset by peer").
        let detail = state?.healthDetail ?? ""
        #expect(state?.health == "down" && (detail.contains("reset before any byte") || detail.contains("Connection reset by peer")), "\(String(describing: state))")
        try await agent.stop()
        await live.stop()
        await resetting.stop()
    }

    @Test("only a backend that never answers, --max-attempts 1: the client is closed without an answer once the connect timeout passes", arguments: DataPlaneKind.allCases)
    func maxAttemptsCloses(plane: DataPlaneKind) async throws {
        let port = try await freePort(on: "127.0.125.21")
        let silent = try await SilentListener.required(at: SocketEndpoint("127.0.125.21:\(port)")!)
        let manifest = TestManifest(
            clusterIP: "127.0.125.20", port: try await freePort(on: "127.0.125.20"), backendIPs: ["127.0.125.21"], backendPort: port,
            annotations: [ServiceAnnotations.healthCheck: "none"])
        let agent = try await RunningAgent(manifestsPath: try manifest.write(), dataPlane: plane) { settings in
            settings.proxy.connectTimeout = .milliseconds(400)
            settings.proxy.maxAttempts = 1
        }
        let start = ContinuousClock.now
        await #expect(throws: TestClient.NoAnswer.self) { try await TestClient.firstLine(from: manifest.frontend) }
        #expect(ContinuousClock.now - start >= .milliseconds(400), "the agent waited for the connect timeout before giving up")
        #expect(await agent.backend(silent.endpoint)?.failedDials == 1, "one attempt, as --max-attempts says")
        try await agent.stop()
        await silent.stop()
    }

    @Test("an HTTP health check whose path answers 500 marks the backend down, while one of / keeps it up", arguments: DataPlaneKind.allCases)
    func httpCheckPath(plane: DataPlaneKind) async throws {
        let port = try await freePort(on: "127.0.125.31")
        let backend = try await HTTPStatusBackend(at: SocketEndpoint("127.0.125.31:\(port)")!)
        let check = [ServiceAnnotations.healthCheck: "http", ServiceAnnotations.healthCheckInterval: "200ms"]
        var ready = TestManifest(
            clusterIP: "127.0.125.30", port: try await freePort(on: "127.0.125.30"), backendIPs: ["127.0.125.31"], backendPort: port,
            annotations: check.merging([ServiceAnnotations.healthCheckPath: "/ready"]) { $1 })
        ready.name = "ready"
        var root = TestManifest(clusterIP: "127.0.125.32", port: try await freePort(on: "127.0.125.32"), backendIPs: ["127.0.125.31"], backendPort: port, annotations: check)
        root.name = "root"
        let directory = try ready.write()
        try root.yaml.write(toFile: directory + "/root.yaml", atomically: true, encoding: .utf8)
        let agent = try await RunningAgent(manifestsPath: directory, dataPlane: plane)
        #expect(await agent.waitFor(timeout: .seconds(10)) {
            let document = agent.agent.routes.view.servicesDocument()
            let health = Dictionary(uniqueKeysWithValues: document.services.map { ($0.name, $0.frontends[0].backends[0]) })
            return health["ready"]?.health == "down" && health["ready"]?.healthDetail?.contains("answered 500") == true
                && health["root"]?.health == "up" && health["root"]?.healthDetail == nil
        } != nil, "/ready answered 500: down; / answered 200: up")
        try await agent.stop()
        await backend.stop()
    }

    @Test("--drain-grace: a connection open at shutdown keeps working during the grace, then the agent closes it and stops", arguments: DataPlaneKind.allCases)
    func drainGraceRunsOut(plane: DataPlaneKind) async throws {
        let port = try await freePort(on: "127.0.125.41")
        let backend = try await TestBackend.start(name: "b1", at: SocketEndpoint("127.0.125.41:\(port)")!)
        let manifest = TestManifest(clusterIP: "127.0.125.40", port: try await freePort(on: "127.0.125.40"), backendIPs: ["127.0.125.41"], backendPort: port)
        let agent = try await RunningAgent(manifestsPath: try manifest.write(), dataPlane: plane) { $0.drainGrace = .seconds(2) }
        let connection = try await TestClient.open(manifest.frontend)
        #expect(try await connection.nextLine() == "b1")
        let stopping = Task { try await agent.stop() }
        try await Task.sleep(for: .milliseconds(300))
        await #expect(throws: (any Error).self, "no new connection once stopping") { try await TestClient.firstLine(from: manifest.frontend) }
        try await connection.send("during the grace\n")
        #expect(try await connection.nextLine() == "during the grace", "the open connection still works")
        try await stopping.value
        #expect(await waitUntil(.seconds(5)) { !connection.channel.isActive }, "the agent closed it when the grace ran out")
        await backend.stop()
    }
}
