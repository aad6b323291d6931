import AsyncHTTPClient
import Foundation
import InterlinkAPI
import InterlinkAgent
import InterlinkCore
import NIOCore

/// One cluster of an end-to-end mesh: an `interlink agent` process with its kvstore (its own
/// embedded store, or a real etcd), backends answering with `<cluster>-b1`, `-b2`, ... (two
/// unless told), and its
/// services, all on `127.0.<subnet>.x`.
final class MeshCluster: @unchecked Sendable {
    // Mutated only by the test that owns it, one step at a time.
    let name: String
    let id: Int
    let subnet: Int
    let kind: StoreKind
    let dataDir: URL
    let meshDir: URL
    let manifestsDir: URL
    let apiPort: UInt16
    let meshPort: UInt16
    let backendPort: UInt16
    var etcd: EtcdServer?
    var backends: [TestBackend] = []
    var process: Process?
    var extraArguments: [String] = []
    /// What the agent is started through (`InterlinkProcess.unprivileged`, `prlimit ...`).
    var launcher: [String] = []
    /// This cluster's certificates (`interlink certs issue`): the agent then serves its store
    /// over mutual TLS with `--mesh-tls-dir`.
    var tlsDir: URL?
    /// The agent's `--log-level`, and what it has logged (its standard error) so far.
    var logLevel = "error"
    private(set) var log: OutputCollector?
    private var output: OutputCollector?

    init(name: String, id: Int, subnet: Int, kind: StoreKind, backendPort: UInt16, backendCount: Int = 2) async throws {
        self.name = name
        self.id = id
        self.subnet = subnet
        self.kind = kind
        self.backendPort = backendPort
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("interlink-mesh-\(name)-\(UUID().uuidString)")
        dataDir = root.appendingPathComponent("data")
        meshDir = root.appendingPathComponent("clustermesh")
        manifestsDir = root.appendingPathComponent("manifests")
        for dir in [dataDir, meshDir, manifestsDir] { try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true) }
        apiPort = try await freePort(on: "127.0.\(subnet).1")
        meshPort = try await freePort(on: "127.0.\(subnet).1")
        if kind == .etcd { etcd = try await EtcdServer() }
        for index in 1...backendCount {
            backends.append(try await TestBackend.start(name: "\(name)-b\(index)", at: backendEndpoint(index)))
        }
    }

    var apiURL: String { "http://127.0.\(subnet).1:\(apiPort)" }
    var storeURL: String { etcd?.clientURL ?? "\(tlsDir == nil ? "http" : "https")://127.0.\(subnet).1:\(meshPort)" }
    func backendEndpoint(_ index: Int) -> SocketEndpoint { SocketEndpoint("127.0.\(subnet).1\(index):\(backendPort)")! }
    func frontend(_ port: UInt16) -> SocketEndpoint { SocketEndpoint("127.0.\(subnet).10:\(port)")! }

    /// Adds a service whose backends are all of this cluster's backends.
    func addService(_ name: String, port: UInt16, annotations: [String: String]) throws {
        var manifest = TestManifest(
            clusterIP: "127.0.\(subnet).10", port: port, backendIPs: backends.indices.map { "127.0.\(subnet).1\($0 + 1)" },
            backendPort: backendPort, annotations: annotations)
        manifest.name = name
        try manifest.yaml.write(to: manifestsDir.appendingPathComponent("\(name).yaml"), atomically: true, encoding: .utf8)
    }

    func startAgent() throws {
        var arguments = [
            "agent", "--cluster-name", name, "--cluster-id", "\(id)", "--manifests", manifestsDir.path,
            "--api-listen", "127.0.\(subnet).1:\(apiPort)", "--data-dir", dataDir.path, "--clustermesh-config", meshDir.path,
            "--drain-grace", "1s", "--log-level", logLevel,
        ]
        if let etcd {
            arguments += ["--kvstore", "etcd", "--kvstore-endpoints", etcd.clientURL]
        } else {
            arguments += ["--mesh-listen", "127.0.\(subnet).1:\(meshPort)"]
            if let tlsDir { arguments += ["--mesh-tls-dir", tlsDir.path] }
        }
        let (started, out, err) = try InterlinkProcess.start(arguments + extraArguments, launcher: launcher)
        (process, output, log) = (started, OutputCollector(out), OutputCollector(err))
    }

    func waitHealthy() async -> Bool {
        await Self.waitForAPI(apiURL)
    }

    /// Waits until the agent at `url` answers `/healthz`.
    static func waitForAPI(_ url: String) async -> Bool {
        await waitUntil(.seconds(20)) {
            (try? await HTTPClient.shared.execute(HTTPClientRequest(url: url + "/healthz"), timeout: .seconds(2)))?.status == .ok
        }
    }

    /// Kills the agent with SIGKILL (no clean-up at all), and in etcd mode stops its etcd, so
    /// that the cluster is unreachable.
    func crash() async {
        if let process, process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        etcd?.stop(keepData: true)
    }

    /// Starts the cluster again after `crash()`, with the same data.
    func restart() async throws {
        if let etcd { self.etcd = try await etcd.restart() }
        try startAgent()
    }

    func stopBackends() async { for backend in backends { await backend.stop() } }
    func startBackends() async throws { for backend in backends { try await backend.start() } }

    /// Waits until this agent's health checks have every one of its own backends up, in every
    /// service (each service checks its backends on its own schedule).
    func localBackendsUp(within timeout: Duration) async -> Bool {
        await waitUntil(timeout) {
            let own = ((try? await backends()) ?? []).filter { $0.cluster == name }
            return !own.isEmpty && own.allSatisfy { $0.health == "up" }
        }
    }

    /// Stops the agent with SIGTERM, its backends and its etcd; returns the agent's exit status
    /// (nil if it was not running).
    @discardableResult
    func shutdown() async -> Int32? {
        var status: Int32?
        if let process, process.isRunning {
            process.terminate()
            process.waitUntilExit()
            status = process.terminationStatus
        }
        await stopBackends()
        etcd?.stop()
        try? FileManager.default.removeItem(at: dataDir.deletingLastPathComponent())
        return status
    }

    /// Makes this cluster's certificates in `root` as a user would (`interlink certs init` for
    /// the mesh CA, once per root; `interlink certs issue --ip` for the store's address).
    func issueCertificates(in root: URL) async throws {
        if !FileManager.default.fileExists(atPath: root.appendingPathComponent("ca.crt").path) {
            try await Mesh.interlink(["certs", "init", "--dir", root.path])
        }
        try await Mesh.interlink(["certs", "issue", "--dir", root.path, "--cluster", name, "--ip", "127.0.\(subnet).1"])
        tlsDir = root.appendingPathComponent(name)
    }

    /// Lets the unprivileged user (`InterlinkProcess.unprivileged`) own this cluster's files
    /// (its certificates' keys are 0600).
    func handOverToNobody() throws {
        var paths = [dataDir, meshDir].map(\.path)
        if let tlsDir {
            paths.append(tlsDir.path)
            paths += try FileManager.default.contentsOfDirectory(atPath: tlsDir.path).map { tlsDir.appendingPathComponent($0).path }
        }
        for path in paths {
            guard chown(path, 65534, 65534) == 0 else { throw POSIXError(.EPERM) }
        }
    }

    func clusters() async throws -> ClustersDocument { try await getJSON("/v1/clusters") }
    func services() async throws -> ServicesDocument { try await getJSON("/v1/services") }
    /// Every backend of every frontend of every service, as `/v1/services` lists them.
    func backends() async throws -> [ServicesDocument.Backend] { try await services().services.flatMap(\.frontends).flatMap(\.backends) }

    /// One second of `GET /v1/traffic`: new connections per cluster.
    struct TrafficSample: Decodable { var time: Double; var clusters: [String: Int] }
    /// Service → its per-second samples, oldest first (`GET /v1/traffic`, what the dashboard draws).
    func traffic() async throws -> [String: [TrafficSample]] { try await getJSON("/v1/traffic") }

    private func getJSON<Document: Decodable>(_ path: String) async throws -> Document {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: apiURL + path), timeout: .seconds(5))
        let body = try await response.body.collect(upTo: 16 << 20)
        return try JSONDecoder().decode(Document.self, from: Data(body.readableBytesView))
    }

    /// The clusters (by backend name prefix) of the backends a tally reached.
    static func clusters(of tally: [String: Int]) -> Set<String> {
        Set(tally.keys.map { String($0.split(separator: "-").first ?? "") })
    }
}

/// Three clusters, east (1), west (2) and north (3), joined with `interlink connect`.
struct Mesh {
    let east: MeshCluster
    let west: MeshCluster
    let north: MeshCluster
    /// The mesh CA and every cluster's certificates, with `tls`.
    var certificates: URL?
    var all: [MeshCluster] { [east, west, north] }

    /// With `tls`, every embedded store is served over mutual TLS with certificates from
    /// `interlink certs`, and `interlink connect` writes the TLS files into the cluster files.
    /// East, west and north live on `127.0.<subnets[i]>.x` (suites that run at once need their
    /// own); east has `eastBackends` backends, the others two.
    static func make(_ kind: StoreKind, tls: Bool = false, subnets: [Int] = [70, 71, 72], eastBackends: Int = 2) async throws -> Mesh {
        precondition(subnets.count == 3 && (1...9).contains(eastBackends), "three subnets, up to nine backends")
        let backendPort = try await freePort()
        var mesh = Mesh(
            east: try await MeshCluster(name: "east", id: 1, subnet: subnets[0], kind: kind, backendPort: backendPort, backendCount: eastBackends),
            west: try await MeshCluster(name: "west", id: 2, subnet: subnets[1], kind: kind, backendPort: backendPort),
            north: try await MeshCluster(name: "north", id: 3, subnet: subnets[2], kind: kind, backendPort: backendPort))
        if tls {
            let root = FileManager.default.temporaryDirectory.appendingPathComponent("interlink-certs-\(UUID().uuidString)")
            for cluster in mesh.all { try await cluster.issueCertificates(in: root) }
            mesh.certificates = root
        }
        return mesh
    }

    /// Starts every agent and connects them all; throws if that fails.
    func start() async throws {
        for cluster in all { try cluster.startAgent() }
        for cluster in all where !(await cluster.waitHealthy()) { throw EtcdServerError("agent \(cluster.name) did not start") }
        try await Self.interlink(["connect", "--timeout", "20s"] + all.map(\.apiURL))
    }

    /// Stops every cluster; returns the agents that did not exit 0 on SIGTERM, with their status.
    @discardableResult
    func shutdown() async -> [String: Int32] {
        var unclean: [String: Int32] = [:]
        for cluster in all {
            if let status = await cluster.shutdown(), status != 0 { unclean[cluster.name] = status }
        }
        if let certificates { try? FileManager.default.removeItem(at: certificates) }
        return unclean
    }

    /// Runs `interlink ARGS`; throws with its output if it fails.
    @discardableResult
    static func interlink(_ arguments: [String]) async throws -> String {
        let result = try await InterlinkProcess.run(arguments)
        guard result.status == 0 else {
            throw EtcdServerError("interlink \(arguments.joined(separator: " ")) exited \(result.status): \(result.stderr)\(result.stdout)")
        }
        return result.stdout
    }
}

/// Opens connections to `frontend` for `duration` (or until its task is cancelled), one every
/// `pause` or so; returns the
/// backends reached and the failed connections with their errors (a connection closed
/// without an answer is a failure, `TestClient.NoAnswer`). The pause keeps the
/// suite's loopback connections (each leaves two ports in TIME_WAIT for a minute) well
/// below the 28,000 ephemeral ports, which back-to-back connections in parallel tests
/// could exhaust.
func hammer(_ frontend: SocketEndpoint, for duration: Duration, pause: Duration = .milliseconds(3)) async -> (tally: [String: Int], failures: Int, errors: [String]) {
    var tally: [String: Int] = [:]
    var errors: [String] = []
    let deadline = ContinuousClock.now + duration
    while ContinuousClock.now < deadline, !Task.isCancelled {
        do {
            tally[try await TestClient.firstLine(from: frontend), default: 0] += 1
        } catch {
            errors.append("\(error)")
        }
        try? await Task.sleep(for: pause)
    }
    return (tally, errors.count, errors)
}
