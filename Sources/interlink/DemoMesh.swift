import Foundation
import InterlinkAPI
import InterlinkAgent
import InterlinkCore
import InterlinkDemo
import NIOConcurrencyHelpers
import NIOPosix

/// The demo's two clusters: agent processes (this same executable) with their embedded
/// stores, and in-process backends. `cleanUp` stops them all and removes the temporary files.
final class DemoMesh: Sendable {
    struct Cluster: Sendable {
        var name: String
        var id: Int
        var subnet: Int
        var api: String { "http://127.0.\(subnet).1:9876" }
        var frontend: SocketEndpoint { SocketEndpoint("127.0.\(subnet).10:8080")! }
        func backend(_ index: Int) -> SocketEndpoint { SocketEndpoint("127.0.\(subnet).1\(index):9000")! }
    }

    let east: Cluster
    let west: Cluster
    let directory: URL
    private let processes = NIOLockedValueBox<[Process]>([])
    private let backends = NIOLockedValueBox<[String: DemoBackend]>([:])

    init(subnet: Int) throws {
        east = Cluster(name: "east", id: 1, subnet: subnet)
        west = Cluster(name: "west", id: 2, subnet: subnet + 1)
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("interlink-demo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    /// Starts both clusters, their stores served over mutual TLS with certificates made as
    /// `interlink certs` makes them (in the demo's temporary directory), and connects them;
    /// returns each cluster's store endpoints as its agent reports them.
    func start() async throws -> [String: [String]] {
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
        let certificates = directory.appendingPathComponent("certs").path
        let authority = try CertsInitCommand.writeAuthority(dir: certificates, days: 1)
        for cluster in [east, west] {
            let tlsDir = try CertsIssueCommand.writeCluster(authority, dir: certificates, cluster: cluster.name, ip: ["127.0.\(cluster.subnet).1"], dns: [], days: 1)
            for index in 1...2 { try await startBackend(cluster, index) }
            let manifest = directory.appendingPathComponent("\(cluster.name).yaml")
            try Self.manifest(cluster).write(to: manifest, atomically: true, encoding: .utf8)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = [
                "agent", "--cluster-name", cluster.name, "--cluster-id", "\(cluster.id)", "--manifests", manifest.path,
                "--api-listen", "127.0.\(cluster.subnet).1:9876", "--mesh-listen", "127.0.\(cluster.subnet).1:9877",
                "--mesh-tls-dir", tlsDir,
                "--data-dir", directory.appendingPathComponent(cluster.name).path, "--drain-grace", "1s", "--log-level", "error",
            ]
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            processes.withLockedValue { $0.append(process) }
        }
        let clients = [east, west].map { AgentClient($0.api, token: nil) }
        let deadline = ContinuousClock.now + .seconds(20)
        for client in clients {
            while (try? await client.clusters()) == nil {
                guard ContinuousClock.now < deadline, processes.withLockedValue({ $0.allSatisfy(\.isRunning) }) else {
                    throw DemoError("an agent did not start (is 127.0.\(east.subnet).1:9876 or :9877 already in use? try --subnet)")
                }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        let plan = try await MeshPlan.read(clients)
        for (client, local) in zip(clients, plan.locals) {
            for remote in plan.locals where remote.name != local.name {
                let (status, body) = try await client.send(.POST, "/v1/clusters", body: ConnectRequest(name: remote.name, endpoints: remote.storeEndpoints))
                guard status == 201 else { throw DemoError("\(local.name) could not connect to \(remote.name): \(body)") }
            }
        }
        try await plan.waitConnected(clients, within: .seconds(20))
        return Dictionary(uniqueKeysWithValues: plan.locals.map { ($0.name, $0.storeEndpoints) })
    }

    func annotate(_ affinity: String) async throws {
        let (status, body) = try await AgentClient(east.api, token: nil).send(
            .POST, "/v1/services/default/echo/annotations", body: AnnotateRequest(set: ["service.cilium.io/affinity": affinity]))
        guard status == 200 else { throw DemoError("could not set the affinity: \(body)") }
    }

    func stopEastBackends() async {
        for index in 1...2 {
            let backend = backends.withLockedValue { $0.removeValue(forKey: "east-\(index)") }
            await backend?.stop()
        }
    }

    func startEastBackends() async throws {
        for index in 1...2 { try await startBackend(east, index) }
    }

    private func startBackend(_ cluster: Cluster, _ index: Int) async throws {
        let backend = try await DemoBackend.start(
            name: "\(cluster.name)-\(index)", cluster: cluster.name, listen: [cluster.backend(index)], group: MultiThreadedEventLoopGroup.singleton)
        backends.withLockedValue { $0["\(cluster.name)-\(index)"] = backend }
    }

    /// Stops the agents (SIGTERM, then SIGKILL) and removes the temporary files; idempotent.
    func cleanUp() {
        let running = processes.withLockedValue { list in
            defer { list = [] }
            return list
        }
        for process in running where process.isRunning { process.terminate() }
        for process in running {
            let deadline = Date().addingTimeInterval(3)
            while process.isRunning, Date() < deadline { usleep(20_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        try? FileManager.default.removeItem(at: directory)
    }

    static func manifest(_ cluster: Cluster) -> String {
        """
        apiVersion: v1
        kind: Service
        metadata:
          name: echo
          namespace: default
          annotations:
            service.cilium.io/global: "true"
            interlink.io/health-check-interval: 250ms
            interlink.io/health-check-fall: "2"
        spec:
          clusterIP: 127.0.\(cluster.subnet).10
          ports:
            - name: http
              port: 8080
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata:
          name: echo-\(cluster.name)
          namespace: default
          labels:
            kubernetes.io/service-name: echo
        addressType: IPv4
        endpoints:
          - addresses: ["127.0.\(cluster.subnet).11"]
          - addresses: ["127.0.\(cluster.subnet).12"]
        ports:
          - name: http
            port: 9000
        """
    }
}

/// Runs `onInterrupt` on SIGINT or SIGTERM, then exits 130, so that Ctrl-C cleans up.
final class DemoInterrupt: @unchecked Sendable {
    // Set once in init; DispatchSource is thread-safe.
    private let sources: [any DispatchSourceSignal]

    init(_ onInterrupt: @escaping @Sendable () -> Void) {
        sources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                print("\ninterrupted: stopping the demo's agents and backends")
                onInterrupt()
                exit(130)
            }
            source.resume()
            return source
        }
    }

    func cancel() {
        for source in sources { source.cancel() }
    }
}
