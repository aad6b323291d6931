import Foundation
@testable import InterlinkAgent
import InterlinkCore
import InterlinkProxy
import InterlinkDemo
import NIOCore
import NIOPosix
import Testing

/// The single-cluster data plane over real loopback sockets, with real TCP backends and an
/// agent running as `interlink agent` runs it. Each test uses its own 127.0.N.0/24 addresses.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct ProxyIntegrationTests {
    static func setUp(
        plane: DataPlaneKind, subnet: Int, backends: Int = 3, annotations: [String: String] = [:], extraSpec: String = "",
        configure: (inout AgentSettings) -> Void = { _ in }
    ) async throws -> (TestManifest, [TestBackend], RunningAgent) {
        let manifest = TestManifest(
            clusterIP: "127.0.\(subnet).10", port: try await freePort(),
            backendIPs: (1...backends).map { "127.0.\(subnet).\(10 + $0)" }, backendPort: try await freePort(),
            annotations: annotations, extraSpec: extraSpec)
        var started: [TestBackend] = []
        for (index, endpoint) in manifest.backendEndpoints().enumerated() {
            started.append(try await TestBackend.start(name: "b\(index + 1)", at: endpoint))
        }
        let agent = try await RunningAgent(manifestsPath: try manifest.write(), dataPlane: plane, configure: configure)
        return (manifest, started, agent)
    }

    @Test("connections spread over every backend", arguments: DataPlaneKind.allCases)
    func spreadsOverAllBackends(plane: DataPlaneKind) async throws {
        let (manifest, backends, agent) = try await Self.setUp(plane: plane, subnet: 21)
        var counts: [String: Int] = [:]
        for _ in 0..<300 {
            counts[try await TestClient.firstLine(from: manifest.frontend), default: 0] += 1
        }
        #expect(counts.keys.sorted() == ["b1", "b2", "b3"])
        for (name, count) in counts {
            #expect(count >= 60, "backend \(name) got \(count) of 300 connections")
        }
        let total = await agent.backend(backends[0].endpoint)?.totalConnections
        #expect(total == counts["b1"])
        try await agent.stop()
        for backend in backends { await backend.stop() }
    }

    @Test("an IPv6 frontend proxies to IPv6 backends", arguments: DataPlaneKind.allCases)
    func ipv6Frontend(plane: DataPlaneKind) async throws {
        let manifest = TestManifest(clusterIP: "::1", port: try await freePort(on: "::1"), backendIPs: ["::1"], backendPort: try await freePort(on: "::1"))
        let backend = try await TestBackend.start(name: "v6", at: manifest.backendEndpoints()[0])
        let agent = try await RunningAgent(manifestsPath: try manifest.write(), dataPlane: plane)
        #expect(try await TestClient.firstLine(from: manifest.frontend) == "v6")
        try await agent.stop()
        await backend.stop()
    }

    @Test("a killed backend: every new connection still succeeds, it is marked down in time, and comes back after rise checks", arguments: DataPlaneKind.allCases)
    func failoverAndRecovery(plane: DataPlaneKind) async throws {
        let interval = Duration.milliseconds(300)
        let fall = 3, rise = 2
        let (manifest, backends, agent) = try await Self.setUp(plane: plane, subnet: 22, annotations: [
            ServiceAnnotations.healthCheckInterval: "300ms", ServiceAnnotations.healthCheckTimeout: "200ms",
            ServiceAnnotations.healthCheckFall: "\(fall)", ServiceAnnotations.healthCheckRise: "\(rise)",
        ])
        let victim = backends[1]
        #expect(await agent.backend(victim.endpoint)?.health == "up")

        // Without traffic, active checks alone notice (how fast is not asserted here: a loaded
        // machine may take longer, and timing belongs in a benchmark).
        await victim.stop()
        let markedDown = await agent.waitFor(timeout: .seconds(10)) { await agent.backend(victim.endpoint)?.health == "down" }
        #expect(markedDown != nil, "marked down by active checks alone within 10 s (interval \(interval), fall \(fall))")

        // Every connection succeeds while it is down.
        var names: Set<String> = []
        for _ in 0..<100 {
            names.insert(try await TestClient.firstLine(from: manifest.frontend))
        }
        #expect(names == ["b1", "b3"])

        // Back: after `rise` good checks it takes traffic again.
        try await victim.start()
        let up = await agent.waitFor(timeout: .seconds(5)) { await agent.backend(victim.endpoint)?.health == "up" }
        // `rise` good checks, ±10 % jitter apart: never sooner than (rise − 1) × 0.9 × interval.
        #expect(up != nil && up! >= interval * (rise - 1) * 0.9, "came back after \(String(describing: up))")
        var afterCount = 0
        for _ in 0..<90 where try await TestClient.firstLine(from: manifest.frontend) == "b2" {
            afterCount += 1
        }
        #expect(afterCount > 0)
        try await agent.stop()
        for backend in backends { await backend.stop() }
    }

    @Test("a dead backend not yet marked down: the proxy retries another and the client sees no error", arguments: DataPlaneKind.allCases)
    func retriesOnFailedDial(plane: DataPlaneKind) async throws {
        // Checks every 10 minutes: only the passive path can notice.
        let (manifest, backends, agent) = try await Self.setUp(plane: plane, subnet: 23, annotations: [ServiceAnnotations.healthCheckInterval: "10m"])
        await backends[0].stop()
        await backends[2].stop()
        for _ in 0..<50 {
            #expect(try await TestClient.firstLine(from: manifest.frontend) == "b2")
        }
        let dead = await agent.backend(backends[0].endpoint)
        #expect(dead?.health == "down")
        // The first failed dial marks it down; a dial already racing the update may fail too...
        let failed = dead?.failedDials ?? 0
        #expect((1...3).contains(failed))
        // ...but once marked down it is never dialled again.
        for _ in 0..<50 {
            #expect(try await TestClient.firstLine(from: manifest.frontend) == "b2")
        }
        #expect(await agent.backend(backends[0].endpoint)?.failedDials == failed)
        try await agent.stop()
        await backends[1].stop()
    }

    @Test("half-close: the client shuts its write side and still receives the backend's full answer", arguments: DataPlaneKind.allCases)
    func halfClose(plane: DataPlaneKind) async throws {
        let (manifest, backends, agent) = try await Self.setUp(plane: plane, subnet: 24, backends: 1)
        let payload = ByteBuffer(repeating: 0x61, count: 8 << 20)
        var sent = StreamHash()
        sent.update(payload)
        let exchange = try await TestClient.exchange(with: manifest.frontend, payload: payload, halfClose: true)
        // name line + echo of 8 MiB + trailer written after the backend saw our EOF.
        let trailer = "bye b1 \(sent.count) \(sent.value)\n"
        #expect(exchange.tail.hasSuffix(trailer))
        #expect(exchange.hash.count == "b1\n".utf8.count + sent.count + trailer.utf8.count)
        try await agent.stop()
        await backends[0].stop()
    }

    @Test("64 MiB in each direction arrives intact", arguments: DataPlaneKind.allCases)
    func bulkTransferIntegrity(plane: DataPlaneKind) async throws {
        let (manifest, backends, agent) = try await Self.setUp(plane: plane, subnet: 25, backends: 1)
        var payload = ByteBuffer()
        payload.writeWithUnsafeMutableBytes(minimumWritableBytes: 64 << 20) { raw in
            // xorshift64: incompressible, reproducible bytes
            let words = raw.bindMemory(to: UInt64.self)
            var state: UInt64 = 0x9E37_79B9_7F4A_7C15
            for index in 0..<(64 << 20) / 8 {
                state ^= state << 13; state ^= state >> 7; state ^= state << 17
                words[index] = state
            }
            return 64 << 20
        }
        var sent = StreamHash()
        sent.update(payload)
        var expected = StreamHash()
        expected.update("b1\n")
        expected.update(payload)
        let trailer = "bye b1 \(sent.count) \(sent.value)\n"
        expected.update(trailer)

        let exchange = try await TestClient.exchange(with: manifest.frontend, payload: payload, halfClose: true)
        #expect(exchange.tail.hasSuffix(trailer), "the backend received exactly what was sent")
        #expect(exchange.hash == expected, "the client received exactly what the backend sent")
        try await agent.stop()
        await backends[0].stop()
    }

    @Test("1000 concurrent connections all complete", arguments: DataPlaneKind.allCases)
    func thousandConcurrentConnections(plane: DataPlaneKind) async throws {
        let (manifest, backends, agent) = try await Self.setUp(plane: plane, subnet: 26)
        let results = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<1000 {
                group.addTask { try await TestClient.firstLine(from: manifest.frontend) }
            }
            var all: [String] = []
            for try await name in group { all.append(name) }
            return all
        }
        #expect(results.count == 1000)
        #expect(Set(results) == ["b1", "b2", "b3"])
        try await agent.stop()
        for backend in backends { await backend.stop() }
    }

    @Test("a routing change leaves open connections alone", arguments: DataPlaneKind.allCases)
    func routingChangeKeepsOpenConnections(plane: DataPlaneKind) async throws {
        let (manifest, backends, agent) = try await Self.setUp(
            plane: plane,
            subnet: 27, backends: 1, annotations: ["interlink.io/panic": "false"])
        let connection = try await TestClient.open(manifest.frontend)
        #expect(try await connection.nextLine() == "b1")
        // The only backend goes down and panic routing is off: new connections have nowhere to go...
        agent.agent.writer.record(.passiveFailure(reason: "test"), for: BackendKey(service: ServiceName(namespace: "default", name: "echo"), endpoint: backends[0].endpoint))
        #expect(await agent.backend(backends[0].endpoint)?.eligible == false)
        let refused = try? await TestClient.exchange(with: manifest.frontend, halfClose: false)
        #expect(refused?.firstLine ?? "" == "", "a new connection finds no backend")
        // ...but the open one still works.
        try await connection.send("still here\n")
        #expect(try await connection.nextLine() == "still here")
        await connection.close()
        try await agent.stop()
        await backends[0].stop()
    }

    @Test("when every backend is unhealthy, panic routing still sends new connections to them", arguments: DataPlaneKind.allCases)
    func panicRoutesToUnhealthyBackends(plane: DataPlaneKind) async throws {
        let (manifest, backends, agent) = try await Self.setUp(plane: plane, subnet: 38, backends: 2)
        for backend in backends {
            agent.agent.writer.record(.passiveFailure(reason: "test"), for: BackendKey(service: ServiceName(namespace: "default", name: "echo"), endpoint: backend.endpoint))
        }
        #expect(await agent.backend(backends[0].endpoint)?.health == "down")
        #expect(await agent.backend(backends[0].endpoint)?.eligible == true, "in panic an unhealthy backend takes new connections")
        var names: Set<String> = []
        for _ in 0..<40 { names.insert(try await TestClient.firstLine(from: manifest.frontend)) }
        #expect(names == ["b1", "b2"], "panic spreads over every backend, healthy or not")
        await agent.agent.routes.settle()
        let document = agent.agent.routes.view.servicesDocument()
        #expect(document.services.first?.frontends.first?.panic == true)
        try await agent.stop()
        for backend in backends { await backend.stop() }
    }

    @Test("sessionAffinity ClientIP pins a client to one backend", arguments: DataPlaneKind.allCases)
    func clientIPAffinity(plane: DataPlaneKind) async throws {
        let (manifest, backends, agent) = try await Self.setUp(
            plane: plane,
            subnet: 28, extraSpec: "  sessionAffinity: ClientIP\n  sessionAffinityConfig:\n    clientIP:\n      timeoutSeconds: 60")
        var names: Set<String> = []
        for _ in 0..<30 { names.insert(try await TestClient.firstLine(from: manifest.frontend)) }
        #expect(names.count == 1)
        try await agent.stop()
        for backend in backends { await backend.stop() }
    }

    @Test("a ClientIP service re-applied with sessionAffinity None stops pinning clients, and pins again when ClientIP comes back", arguments: DataPlaneKind.allCases)
    func clientIPAffinityRemoved(plane: DataPlaneKind) async throws {
        let sticky = "  sessionAffinity: ClientIP\n  sessionAffinityConfig:\n    clientIP:\n      timeoutSeconds: 60"
        let (manifest, backends, agent) = try await Self.setUp(plane: plane, subnet: 36, extraSpec: sticky)
        func names(_ count: Int) async throws -> Set<String> {
            var names: Set<String> = []
            for _ in 0..<count { names.insert(try await TestClient.firstLine(from: manifest.frontend)) }
            return names
        }
        func apply(_ manifest: TestManifest) async throws {
            let (set, problems) = ManifestParser.parse(yaml: manifest.yaml, file: "service.yaml")
            #expect(problems.isEmpty, "\(problems)")
            await agent.agent.routes.waitApplied(agent.agent.writer.replaceServices(set.localServices(cluster: try ClusterName("test")), reason: "test"))
        }
        #expect(try await names(20).count == 1, "ClientIP pins the client")
        var plain = manifest
        plain.extraSpec = "  sessionAffinity: None"
        try await apply(plain)
        #expect(try await names(60).count == 3, "None: the same client is spread over every backend again")
        try await apply(manifest)
        #expect(try await names(20).count == 1, "ClientIP again: pinned again")
        try await agent.stop()
        for backend in backends { await backend.stop() }
    }

    @Test("a backend that leaves its service leaves no counters behind; the others keep theirs", arguments: DataPlaneKind.allCases)
    func countersPruned(plane: DataPlaneKind) async throws {
        let (manifest, backends, agent) = try await Self.setUp(plane: plane, subnet: 37)
        for _ in 0..<30 { _ = try await TestClient.firstLine(from: manifest.frontend) }
        let name = ServiceName(namespace: "default", name: "echo")
        let keys = manifest.backendEndpoints().map { BackendKey(service: name, endpoint: $0) }
        for key in keys { #expect(agent.agent.routes.view.counters(key) != nil) }
        var smaller = manifest
        smaller.backendIPs = Array(manifest.backendIPs.prefix(2))
        let (set, problems) = ManifestParser.parse(yaml: smaller.yaml, file: "service.yaml")
        #expect(problems.isEmpty, "\(problems)")
        await agent.agent.routes.waitApplied(agent.agent.writer.replaceServices(set.localServices(cluster: try ClusterName("test")), reason: "test"))
        #expect(agent.agent.routes.view.counters(keys[2]) == nil, "the removed backend's counters are gone")
        let kept = agent.agent.routes.view.counters(keys[0])
        #expect(kept.map { $0.total > 0 } == true, "the others keep counting")
        try await agent.stop()
        for backend in backends { await backend.stop() }
    }

    @Test("a connection idle in both directions for --idle-timeout is closed", arguments: DataPlaneKind.allCases)
    func idleTimeout(plane: DataPlaneKind) async throws {
        let (manifest, backends, agent) = try await Self.setUp(plane: plane, subnet: 29, backends: 1) { $0.proxy.idleTimeout = .milliseconds(300) }
        let connection = try await TestClient.open(manifest.frontend)
        #expect(try await connection.nextLine() == "b1")
        try await Task.sleep(for: .milliseconds(150))
        try await connection.send("ping\n")
        #expect(try await connection.nextLine() == "ping", "traffic keeps it open")
        let closed = await agent.waitFor(timeout: .seconds(3)) { !connection.channel.isActive }
        #expect(closed != nil && closed! >= .milliseconds(250), "closed after \(String(describing: closed)) of silence")
        try await agent.stop()
        await backends[0].stop()
    }

    @Test("HTTP health checks: a backend answering 2xx stays up, one that does not speak HTTP goes down", arguments: DataPlaneKind.allCases)
    func httpHealthCheck(plane: DataPlaneKind) async throws {
        let manifest = TestManifest(
            clusterIP: "127.0.30.10", port: try await freePort(), backendIPs: ["127.0.30.11", "127.0.30.12"], backendPort: try await freePort(),
            annotations: [
                ServiceAnnotations.healthCheck: "http", ServiceAnnotations.healthCheckPath: "/healthz",
                ServiceAnnotations.healthCheckInterval: "200ms", ServiceAnnotations.healthCheckFall: "2",
            ])
        let endpoints = manifest.backendEndpoints()
        let http = try await DemoBackend.start(name: "web", cluster: "test", listen: [endpoints[0]], group: MultiThreadedEventLoopGroup.singleton)
        let raw = try await TestBackend.start(name: "raw", at: endpoints[1])
        let agent = try await RunningAgent(manifestsPath: try manifest.write(), dataPlane: plane)
        let down = await agent.waitFor(timeout: .seconds(3)) { await agent.backend(endpoints[1])?.health == "down" }
        #expect(down != nil)
        #expect(await agent.backend(endpoints[1])?.healthDetail?.contains("not an HTTP response") == true)
        let web = await agent.backend(endpoints[0])
        #expect(web?.health == "up" && web?.healthDetail == nil, "checked and up: \(String(describing: web?.healthDetail))")
        try await agent.stop()
        await http.stop()
        await raw.stop()
    }
}
