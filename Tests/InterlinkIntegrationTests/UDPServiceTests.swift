import Foundation
@testable import InterlinkAgent
import InterlinkCore
import InterlinkMesh
import InterlinkProxy
import Testing

/// UDP global services on the Linux data plane: DNS-like request and answer through the
/// frontend, flows pinned and spread, flows that expire, a backend that stops answering, and
/// failover to another cluster. Each test uses its own 127.0.N.0/24 addresses.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct UDPServiceTests {
    struct Setup {
        var frontend: SocketEndpoint
        var backends: [UDPEchoBackend]
        var agent: RunningAgent
    }

    static func yaml(subnet: Int, port: UInt16, backendPort: UInt16, backends: Int, annotations: [String: String], tcpToo: Bool = false) -> String {
        let annotationLines = annotations.sorted { $0.key < $1.key }.map { "    \($0.key): \"\($0.value)\"" }.joined(separator: "\n")
        return """
            apiVersion: v1
            kind: Service
            metadata:
              name: dns
              annotations:
            \(annotationLines.isEmpty ? "    {}" : annotationLines)
            spec:
              clusterIP: 127.0.\(subnet).10
              ports:
                - {name: dns, port: \(port), protocol: UDP}
            \(tcpToo ? "    - {name: dns-tcp, port: \(port), protocol: TCP}" : "")
            ---
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata:
              name: dns-1
              labels: {kubernetes.io/service-name: dns}
            addressType: IPv4
            endpoints:
            \((1...backends).map { "  - addresses: [\"127.0.\(subnet).\(10 + $0)\"]" }.joined(separator: "\n"))
            ports:
              - {name: dns, port: \(backendPort), protocol: UDP}
            \(tcpToo ? "  - {name: dns-tcp, port: \(backendPort), protocol: TCP}" : "")
            """
    }

    static func setUp(subnet: Int, backends: Int = 3, annotations: [String: String] = [:], plane: DataPlaneKind = .epoll) async throws -> Setup {
        let port = try await freePort(on: "127.0.\(subnet).10"), backendPort = try await freePort(on: "127.0.\(subnet).11")
        var started: [UDPEchoBackend] = []
        for index in 1...backends {
            started.append(try await UDPEchoBackend(name: "b\(index)", at: SocketEndpoint("127.0.\(subnet).\(10 + index):\(backendPort)")!))
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("interlink-udp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try yaml(subnet: subnet, port: port, backendPort: backendPort, backends: backends, annotations: annotations)
            .write(to: directory.appendingPathComponent("dns.yaml"), atomically: true, encoding: .utf8)
        let agent = try await RunningAgent(manifestsPath: directory.path, dataPlane: plane)
        return Setup(frontend: SocketEndpoint("127.0.\(subnet).10:\(port)")!, backends: started, agent: agent)
    }

    static func tearDown(_ setup: Setup) async throws {
        try await setup.agent.stop()
        for backend in setup.backends { await backend.stop() }
    }

    @Test("a DNS-like query through the frontend is answered by a backend, and the answer comes from the frontend's address")
    func requestAndAnswer() async throws {
        let setup = try await Self.setUp(subnet: 130)
        let client = try await UDPTestClient()
        let reply = try #require(try await client.ask("query 1", to: setup.frontend))
        #expect(reply.text.hasPrefix("b"), "\(reply.text)")
        #expect(reply.from == setup.frontend, "the answer's source is the frontend, as a client resolver requires")
        #expect(["b1:query 1", "b2:query 1", "b3:query 1"].contains(reply.text))
        let document = setup.agent.agent.routes.view.servicesDocument()
        #expect(document.services.first?.frontends.first?.protocol == "UDP")
        await client.close()
        try await Self.tearDown(setup)
    }

    @Test("each client's datagrams stay on one backend (its flow); many clients spread over every backend")
    func flowsPinnedAndSpread() async throws {
        let setup = try await Self.setUp(subnet: 131)
        var seen: [String: Int] = [:]
        for index in 0..<30 {
            let client = try await UDPTestClient(bind: "127.0.131.\(100 + index)")
            var answered: Set<String> = []
            for query in 0..<5 {
                answered.insert(try #require(try await client.backend(answering: "q\(query)", via: setup.frontend)))
            }
            #expect(answered.count == 1, "client \(index) was answered by \(answered)")
            seen[answered.first ?? "", default: 0] += 1
            await client.close()
        }
        #expect(Set(seen.keys) == ["b1", "b2", "b3"], "30 clients reach every backend: \(seen)")
        let flows = setup.agent.agent.routes.view.servicesDocument().services.first?.frontends.first?.backends.map(\.totalConnections).reduce(0, +)
        #expect(flows == 30, "one flow per client")
        try await Self.tearDown(setup)
    }

    @Test("a flow with no datagram for interlink.io/udp-flow-timeout ends")
    func flowsExpire() async throws {
        let setup = try await Self.setUp(subnet: 132, backends: 1, annotations: [ServiceAnnotations.udpFlowTimeout: "500ms"])
        let client = try await UDPTestClient()
        #expect(try await client.backend(answering: "hello", via: setup.frontend) == "b1")
        #expect(await setup.agent.backend(setup.backends[0].endpoint)?.activeConnections == 1)
        #expect(await setup.agent.waitFor(timeout: .seconds(5)) { await setup.agent.backend(setup.backends[0].endpoint)?.activeConnections == 0 } != nil)
        #expect(try await client.backend(answering: "again", via: setup.frontend) == "b1", "a new flow")
        #expect(await setup.agent.backend(setup.backends[0].endpoint)?.totalConnections == 2)
        await client.close()
        try await Self.tearDown(setup)
    }

    @Test("a backend that stops (ICMP port unreachable): its flows move to the others, it is marked down and gets no new flow")
    func backendStops() async throws {
        let checkPort = try await freePort(on: "127.0.133.11")
        // Checked on a TCP port (with no active check a failure would not mark it down, and
        // nothing would bring it back); the check every hour: only the datagram may notice.
        let setup = try await Self.setUp(subnet: 133, annotations: [
            ServiceAnnotations.healthCheck: "tcp", ServiceAnnotations.healthCheckPort: "\(checkPort)", ServiceAnnotations.healthCheckInterval: "1h",
        ])
        var clients: [UDPTestClient] = []
        var owner: [String] = []
        for index in 0..<12 {
            let client = try await UDPTestClient(bind: "127.0.133.\(100 + index)")
            clients.append(client)
            owner.append(try #require(try await client.backend(answering: "first", via: setup.frontend)))
        }
        let victim = setup.backends[0]
        await victim.stop()
        var lost = 0
        for (index, client) in clients.enumerated() {
            // The datagram that meets the closed port is lost (UDP); the flow moves for the next.
            var answer = try await client.backend(answering: "after", via: setup.frontend, timeout: .seconds(2))
            if answer == nil {
                lost += 1
                answer = try await client.backend(answering: "retry", via: setup.frontend)
            }
            #expect(answer == "b2" || answer == "b3", "client \(index) (was on \(owner[index])) is answered by \(String(describing: answer))")
        }
        #expect(lost <= owner.count { $0 == "b1" }, "only clients of the stopped backend lost a datagram")
        let state = await setup.agent.backend(victim.endpoint)
        #expect(state?.health == "down" && state?.healthDetail?.contains("refused") == true, "\(String(describing: state))")
        for index in 0..<10 {
            let client = try await UDPTestClient(bind: "127.0.133.\(150 + index)")
            #expect(try await client.backend(answering: "new", via: setup.frontend) != "b1")
            await client.close()
        }
        for client in clients { await client.close() }
        try await Self.tearDown(setup)
    }

    @Test("affinity local across clusters, checked on a TCP port: the local backend serves; when it stops, the other cluster's takes the flows; back, new flows return")
    func failoverAcrossClusters() async throws {
        let checkPort = try await freePort(on: "127.0.134.11")
        let setup = try await Self.setUp(subnet: 134, backends: 1, annotations: [
            ServiceAnnotations.global: "true", ServiceAnnotations.affinity: "local", ServiceAnnotations.healthCheck: "tcp",
            ServiceAnnotations.healthCheckPort: "\(checkPort)", ServiceAnnotations.healthCheckInterval: "200ms", ServiceAnnotations.healthCheckRise: "2",
        ])
        let local = setup.backends[0].endpoint
        var checked: TestBackend? = try await TestBackend.start(name: "check", at: SocketEndpoint(ip: local.ip, port: checkPort))
        let remote = try await UDPEchoBackend(name: "west", at: SocketEndpoint("127.0.134.21:\(local.port)")!)
        var cache = RemoteServiceCache(cluster: try ClusterName("west"), clusterID: try ClusterID(2))
        cache.put(key: "cilium/state/services/v1/west/default/dns", value: Array("""
            {"cluster":"west","clusterID":2,"namespace":"default","name":"dns","includeExternal":true,"shared":true,\
            "backends":{"127.0.134.21":{"dns":{"Protocol":"UDP","Port":\(local.port)}}},"frontends":{}}
            """.utf8))
        setup.agent.agent.writer.updateRemote(cache)
        #expect(await setup.agent.waitFor(timeout: .seconds(10)) { await setup.agent.backend(local)?.health == "up" } != nil, "checked on its TCP port")

        let client = try await UDPTestClient()
        for index in 0..<5 { #expect(try await client.backend(answering: "q\(index)", via: setup.frontend) == "b1") }
        await setup.backends[0].stop()
        await checked?.stop()
        checked = nil
        var answers: [String?] = []
        for index in 0..<6 { answers.append(try await client.backend(answering: "f\(index)", via: setup.frontend, timeout: .seconds(2))) }
        #expect(answers.compactMap { $0 }.allSatisfy { $0 == "west" } && answers.filter { $0 == nil }.count <= 2, "\(answers)")
        #expect(answers.last == "west")

        let back = try await UDPEchoBackend(name: "b1", at: local)
        let checkedAgain = try await TestBackend.start(name: "check", at: SocketEndpoint(ip: local.ip, port: checkPort))
        #expect(await setup.agent.waitFor(timeout: .seconds(10)) { await setup.agent.backend(local)?.health == "up" } != nil)
        let fresh = try await UDPTestClient()
        #expect(try await fresh.backend(answering: "home", via: setup.frontend) == "b1", "a new flow goes home")
        await client.close()
        await fresh.close()
        await back.stop()
        await checkedAgain.stop()
        await remote.stop()
        try await Self.tearDown(setup)
    }

    @Test("the SwiftNIO data plane refuses a UDP service, saying which data plane it needs")
    func nioRefusesUDP() async throws {
        let port = try await freePort(on: "127.0.135.10")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("interlink-udp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Self.yaml(subnet: 135, port: port, backendPort: port, backends: 1, annotations: [:])
            .write(to: directory.appendingPathComponent("dns.yaml"), atomically: true, encoding: .utf8)
        let result = try await InterlinkProcess.run([
            "agent", "--manifests", directory.path, "--kvstore", "none", "--data-dir", directory.appendingPathComponent("data").path,
            "--api-listen", "127.0.135.1:\(try await freePort(on: "127.0.135.1"))", "--data-plane", "nio",
        ])
        #expect(result.status == 1)
        #expect(result.stderr.contains("127.0.135.10:\(port)/UDP") && result.stderr.contains("--data-plane epoll"), "\(result.stderr)")
    }
}
