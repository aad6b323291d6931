import Foundation
import InterlinkAPI
import InterlinkAgent
import InterlinkCore
import InterlinkProxy
import Logging
import NIOCore
import NIOPosix

/// A free TCP port on `ip`, found by binding port 0.
func freePort(on ip: String = "127.0.0.1") async throws -> UInt16 {
    let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .bind(host: ip, port: 0).get()
    let port = channel.localAddress!.port!
    try await channel.close()
    return UInt16(port)
}

/// A Service and one EndpointSlice in manifest form, written to a temporary directory.
struct TestManifest {
    var name = "echo"
    var clusterIP: String
    var port: UInt16
    var backendIPs: [String]
    var backendPort: UInt16
    var annotations: [String: String] = [:]
    var extraSpec = ""

    var yaml: String {
        let annotationLines = annotations.sorted { $0.key < $1.key }.map { "    \($0.key): \"\($0.value)\"" }.joined(separator: "\n")
        let endpoints = backendIPs.map { "  - addresses: [\"\($0)\"]\n    conditions: {ready: true}" }.joined(separator: "\n")
        let family = backendIPs.first?.contains(":") == true ? "IPv6" : "IPv4"
        return """
            apiVersion: v1
            kind: Service
            metadata:
              name: \(name)
              annotations:
            \(annotationLines.isEmpty ? "    {}" : annotationLines)
            spec:
              clusterIP: "\(clusterIP)"
              ports:
                - name: tcp
                  port: \(port)
            \(extraSpec)
            ---
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata:
              name: \(name)-1
              labels:
                kubernetes.io/service-name: \(name)
            addressType: \(family)
            endpoints:
            \(endpoints)
            ports:
              - name: tcp
                port: \(backendPort)
            """
    }

    var frontend: SocketEndpoint { SocketEndpoint(ip: IPAddress(clusterIP)!, port: port) }

    func backendEndpoints() -> [SocketEndpoint] {
        backendIPs.map { SocketEndpoint(ip: IPAddress($0)!, port: backendPort) }
    }

    /// Writes the manifest into a new temporary directory and returns the directory.
    func write() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("interlink-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try yaml.write(to: dir.appendingPathComponent("service.yaml"), atomically: true, encoding: .utf8)
        return dir.path
    }
}

/// An agent running in this process, as `interlink agent` would run it.
final class RunningAgent: Sendable {
    let agent: Agent
    let task: Task<Void, Error>

    init(manifestsPath: String, dataPlane: DataPlaneKind = .platformDefault, configure: (inout AgentSettings) -> Void = { _ in }) async throws {
        var settings = AgentSettings(
            clusterName: try ClusterName("test"), clusterID: try ClusterID(1), manifestsPath: manifestsPath,
            apiListen: SocketEndpoint(ip: IPAddress("127.0.0.1")!, port: 0))
        settings.drainGrace = .seconds(1)
        settings.threads = 2
        settings.dataPlane = dataPlane
        configure(&settings)
        var logger = Logger(label: "test-agent")
        logger.logLevel = .error
        let agent = try Agent(settings: settings, logger: logger, handleSignals: false)
        self.agent = agent
        self.task = Task { try await agent.run() }
        _ = await agent.apiListeningPort()
    }

    func backend(_ endpoint: SocketEndpoint) async -> ServicesDocument.Backend? {
        await agent.routes.settle()
        let document = agent.routes.view.servicesDocument()
        return document.services.flatMap(\.frontends).flatMap(\.backends).first { $0.address == endpoint.description }
    }

    /// Polls until `condition` holds or `timeout` passes; returns the time it took, or nil.
    func waitFor(timeout: Duration, _ condition: @Sendable () async -> Bool) async -> Duration? {
        let start = ContinuousClock.now
        while ContinuousClock.now - start < timeout {
            if await condition() { return ContinuousClock.now - start }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return nil
    }

    func stop() async throws {
        await agent.shutdown()
        try await task.value
    }
}
