import Foundation
import InterlinkAPI
import InterlinkCore
import Testing

/// `--manifests` is watched: a changed file takes effect within a second, a broken one changes
/// nothing and is shown by `interlink status`, and live API changes win over the files until
/// reverted, whichever came first. The agent runs as `nobody`.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct LiveManifestTests {
    static let fast = ["interlink.io/health-check-interval": "300ms"]

    /// Writes service `name` on `port` into `dir/file` the way an editor or a kubectl loop
    /// would: a temporary file renamed over the old one.
    static func write(_ cluster: MeshCluster, _ name: String, port: UInt16, into dir: URL? = nil, file: String? = nil) throws {
        var manifest = TestManifest(
            clusterIP: "127.0.\(cluster.subnet).10", port: port, backendIPs: cluster.backends.indices.map { "127.0.\(cluster.subnet).1\($0 + 1)" },
            backendPort: cluster.backendPort, annotations: fast)
        manifest.name = name
        try manifest.yaml.write(to: (dir ?? cluster.manifestsDir).appendingPathComponent(file ?? "\(name).yaml"), atomically: true, encoding: .utf8)
    }

    static func answers(_ cluster: MeshCluster, _ port: UInt16) async -> Bool {
        (try? await TestClient.firstLine(from: cluster.frontend(port)))?.hasPrefix("east-") ?? false
    }

    /// Waits until `port` answers and every port of `gone` refuses; returns how long it took.
    static func served(_ cluster: MeshCluster, _ port: UInt16, gone: [UInt16] = [], within limit: Duration = .seconds(10)) async -> Duration? {
        let start = ContinuousClock.now
        var done = false
        while ContinuousClock.now - start < limit {
            var refused = true
            for old in gone where await answers(cluster, old) { refused = false }
            if await answers(cluster, port), refused {
                done = true
                break
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return done ? ContinuousClock.now - start : nil
    }

    static func status(_ cluster: MeshCluster) async throws -> ClustersDocument.Manifests? {
        let output = try await Mesh.interlink(["status", "-o", "json", "--api", cluster.apiURL])
        return try JSONDecoder().decode(ClustersDocument.self, from: Data(output.utf8)).manifests
    }

    static func apply(_ cluster: MeshCluster, _ name: String, port: UInt16) async throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("interlink-apply-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try write(cluster, name, port: port, into: dir)
        return try await Mesh.interlink(["apply", "-f", dir.path, "--api", cluster.apiURL])
    }

    @Test("a changed manifest file is applied as a whole; a broken one changes nothing and is shown; files come and go")
    func fileChanges() async throws {
        let cluster = try await MeshCluster(name: "east", id: 1, subnet: 153, kind: .embedded, backendPort: try await freePort())
        cluster.launcher = InterlinkProcess.unprivileged
        try Self.write(cluster, "a", port: 8101)
        try cluster.handOverToNobody()
        do {
            try cluster.startAgent()
            #expect(await cluster.waitHealthy())
            #expect(await Self.served(cluster, 8101) != nil)

            // The port changes in the file: the new frontend serves, the old one is closed (on an
            // idle machine within 300 ms; the bound is loose, for a loaded CI machine).
            try Self.write(cluster, "a", port: 8102)
            let took = await Self.served(cluster, 8102, gone: [8101])
            #expect(took != nil, "not applied within 10 s")
            print("live manifests: a changed file was served after \(took.map { "\($0)" } ?? "never")")
            #expect(try await Self.status(cluster)?.lastResult == "applied")

            // A broken file: rejected whole, the previous manifests stay, status says why.
            try "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {clusterIP: 127.0.153.10, ports: [{name: tcp, port: 70000}]}\n"
                .write(to: cluster.manifestsDir.appendingPathComponent("a.yaml"), atomically: true, encoding: .utf8)
            #expect(await waitUntil(.seconds(5)) { (try? await Self.status(cluster))?.lastResult == "rejected" })
            let rejected = try await Self.status(cluster)
            #expect(rejected?.problems.contains { $0.contains("a.yaml: document 1: spec.ports[0].port: 70000 is not a port number (1-65535)") } == true, "\(String(describing: rejected))")
            #expect(await Self.answers(cluster, 8102), "the previous manifest still serves")
            let text = try await Mesh.interlink(["status", "--api", cluster.apiURL])
            #expect(text.contains("last change REJECTED") && text.contains("70000 is not a port number"), "\(text)")

            // Fixed again; a new file adds a service; removing it removes the service.
            try Self.write(cluster, "a", port: 8103)
            #expect(await Self.served(cluster, 8103, gone: [8102]) != nil)
            try Self.write(cluster, "d", port: 8104)
            #expect(await Self.served(cluster, 8104) != nil)
            try FileManager.default.removeItem(at: cluster.manifestsDir.appendingPathComponent("d.yaml"))
            #expect(await Self.served(cluster, 8103, gone: [8104]) != nil)
        } catch {
            await cluster.shutdown()
            throw error
        }
        #expect(await cluster.shutdown() == 0)
    }

    @Test("API changes win over the files whichever comes first, are listed by status, and revert brings the files back")
    func overridesWin() async throws {
        let cluster = try await MeshCluster(name: "east", id: 1, subnet: 154, kind: .embedded, backendPort: try await freePort())
        cluster.launcher = InterlinkProcess.unprivileged
        try Self.write(cluster, "b", port: 8111)
        try Self.write(cluster, "c", port: 8121)
        try cluster.handOverToNobody()
        do {
            try cluster.startAgent()
            #expect(await cluster.waitHealthy())
            #expect(try await Self.status(cluster)?.overrides == [])

            // API first, then the file: the applied b stays.
            #expect(try await Self.apply(cluster, "b", port: 8112).contains("service/default/b configured"))
            #expect(await Self.served(cluster, 8112, gone: [8111]) != nil)
            try Self.write(cluster, "b", port: 8113)
            #expect(await waitUntil(.seconds(5)) { (try? await Self.status(cluster))?.lastChange != nil })
            try await Task.sleep(for: .milliseconds(500))
            let applied = await Self.answers(cluster, 8112), fromFile = await Self.answers(cluster, 8113)
            #expect(applied && !fromFile, "the live change wins over the file")
            let overrides = try await Self.status(cluster)?.overrides ?? []
            #expect(overrides.contains("applied Service default/b") && overrides.contains("applied EndpointSlice default/b-1"), "\(overrides)")

            // Revert: the file's b (8113) is in force.
            #expect(try await Mesh.interlink(["revert", "service", "default/b", "--api", cluster.apiURL]).contains("reverted"))
            #expect(await Self.served(cluster, 8113, gone: [8112]) != nil)
            #expect(try await Self.status(cluster)?.overrides == [])

            // The file first, then the API: the applied c wins, and a later file change too.
            try Self.write(cluster, "c", port: 8122)
            #expect(await Self.served(cluster, 8122, gone: [8121]) != nil)
            _ = try await Self.apply(cluster, "c", port: 8123)
            #expect(await Self.served(cluster, 8123, gone: [8122]) != nil)
            try Self.write(cluster, "c", port: 8124)
            try await Task.sleep(for: .seconds(1))
            let appliedC = await Self.answers(cluster, 8123), fromFileC = await Self.answers(cluster, 8124)
            #expect(appliedC && !fromFileC, "the live change still wins after the file changed")

            // A restart keeps the override (saved in the store) over the files.
            await cluster.crash()
            try await cluster.restart()
            #expect(await cluster.waitHealthy())
            #expect(await Self.served(cluster, 8123, gone: [8124], within: .seconds(10)) != nil)

            let notChanged = try await InterlinkProcess.run(["revert", "service", "default/a", "--api", cluster.apiURL])
            #expect(notChanged.status == 1 && notChanged.stderr.contains("service default/a has no live changes to revert"), "\(notChanged.stderr)")
        } catch {
            await cluster.shutdown()
            throw error
        }
        #expect(await cluster.shutdown() == 0)
    }
}
