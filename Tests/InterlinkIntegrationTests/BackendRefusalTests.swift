import Foundation
import InterlinkAgent
import InterlinkCore
import Testing

/// Backends the agent must never dial (the unspecified address, multicast, its own API, its
/// own frontend) are refused with a reason in `/v1/services`, and no connection reaches them.
struct BackendRefusalTests {
    static func service(_ name: String, frontend: String, port: UInt16, backends: [String], backendPort: UInt16) -> String {
        """
        apiVersion: v1
        kind: Service
        metadata: {name: \(name)}
        spec:
          clusterIP: \(frontend)
          ports: [{name: tcp, port: \(port)}]
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: \(name)-1, labels: {kubernetes.io/service-name: \(name)}}
        addressType: IPv4
        endpoints:
        \(backends.map { "  - addresses: [\"\($0)\"]" }.joined(separator: "\n"))
        ports: [{name: tcp, port: \(backendPort)}]
        """
    }

    @Test("unspecified, multicast, the API and a service's own frontend are refused and never dialled")
    func refusedBackends() async throws {
        let backendPort = try await freePort(on: "127.0.120.11")
        let apiPort = try await freePort()
        let echoPort = try await freePort(on: "127.0.120.10")
        let loopPort = try await freePort(on: "127.0.120.20")
        let real = try await TestBackend.start(name: "b1", at: SocketEndpoint("127.0.120.11:\(backendPort)")!)
        let yaml = [
            Self.service("echo", frontend: "127.0.120.10", port: echoPort, backends: ["127.0.120.11", "0.0.0.0", "224.0.0.1"], backendPort: backendPort),
            Self.service("api", frontend: "127.0.120.30", port: echoPort, backends: ["127.0.0.1"], backendPort: apiPort),
            Self.service("loop", frontend: "127.0.120.20", port: loopPort, backends: ["127.0.120.20"], backendPort: loopPort),
        ].joined(separator: "\n---\n")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("interlink-refusal-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try yaml.write(to: directory.appendingPathComponent("services.yaml"), atomically: true, encoding: .utf8)
        let agent = try await RunningAgent(manifestsPath: directory.path) { settings in
            settings.apiListen = SocketEndpoint("127.0.0.1:\(apiPort)")!
        }

        for (address, reason) in [
            ("0.0.0.0:\(backendPort)", "unspecified address"), ("224.0.0.1:\(backendPort)", "multicast"),
            ("127.0.0.1:\(apiPort)", "the API of this agent"), ("127.0.120.20:\(loopPort)", "the frontend of Service default/loop"),
        ] {
            let backend = try #require(await agent.backend(SocketEndpoint(address)!), "\(address) is listed")
            #expect(!backend.eligible)
            #expect(backend.reason?.contains("refused: never dialled") == true && backend.reason?.contains(reason) == true, "\(address): \(backend.reason ?? "")")
        }
        await agent.agent.routes.settle()
        let document = agent.agent.routes.view.servicesDocument()
        let echo = try #require(document.services.first { $0.name == "echo" })
        #expect(echo.frontends[0].explanation.contains("2 refused: address never dialled"), "\(echo.frontends[0].explanation)")

        for _ in 0..<30 {
            #expect(try await TestClient.firstLine(from: SocketEndpoint("127.0.120.10:\(echoPort)")!) == "b1")
        }
        // The service whose backend is its own frontend has no backend: the client is closed,
        // the agent does not dial itself.
        let looped = try? await TestClient.firstLine(from: SocketEndpoint("127.0.120.20:\(loopPort)")!)
        #expect(looped == nil || looped == "")
        #expect(await agent.waitFor(timeout: .seconds(5)) { agent.agent.proxy.openConnections == 0 } != nil)
        #expect(await agent.backend(SocketEndpoint("0.0.0.0:\(backendPort)")!)?.totalConnections == 0)
        try await agent.stop()
        await real.stop()
    }
}
