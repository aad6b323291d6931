import Foundation
import InterlinkCore
import InterlinkMesh
import InterlinkProxy
import NIOPosix
import Testing

/// The agent process with its embedded store, as a user runs it.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct AgentStoreProcessTests {
    static func tempDir() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("interlink-agent-store-\(UUID().uuidString)")
    }

    static func startAgent(dataDir: URL, meshPort: UInt16, apiPort: UInt16, manifests: String) throws -> Process {
        try InterlinkProcess.start([
            "agent", "--cluster-name", "crash", "--cluster-id", "4", "--manifests", manifests,
            "--api-listen", "127.0.33.1:\(apiPort)", "--mesh-listen", "127.0.33.1:\(meshPort)", "--data-dir", dataDir.path,
            "--mesh-allow-writes", "--log-level", "error",
        ]).0
    }

    @Test("SIGKILL right after acknowledged writes loses none of them: they are all there after a restart")
    func acknowledgedWritesSurviveSIGKILL() async throws {
        let dataDir = Self.tempDir()
        defer { try? FileManager.default.removeItem(at: dataDir) }
        let manifest = TestManifest(
            clusterIP: "127.0.33.10", port: try await freePort(), backendIPs: ["127.0.33.11"], backendPort: try await freePort(),
            annotations: ["service.cilium.io/global": "true"])
        let manifests = try manifest.write()
        let meshPort = try await freePort(on: "127.0.33.1"), apiPort = try await freePort(on: "127.0.33.1")
        let store = try EtcdClient(endpoints: ["http://127.0.33.1:\(meshPort)"], requestTimeout: .seconds(10))

        let first = try Self.startAgent(dataDir: dataDir, meshPort: meshPort, apiPort: apiPort, manifests: manifests)
        #expect(await waitUntil(.seconds(20)) { (try? await store.range("cilium/synced/crash/cilium/state/services/v1")).map { !$0.kvs.isEmpty } ?? false })
        var acknowledged: [String: Int64] = [:]
        for index in 0..<200 {
            acknowledged["crash/\(index)"] = try await store.put("crash/\(index)", value: Array("value \(index)".utf8))
        }
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        #expect(first.terminationReason == .uncaughtSignal)

        let second = try Self.startAgent(dataDir: dataDir, meshPort: meshPort, apiPort: apiPort, manifests: manifests)
        defer { second.terminate(); second.waitUntilExit() }
        #expect(await waitUntil(.seconds(20)) { (try? await store.range("crash/0")) != nil })
        let after = try await store.range("crash/", prefix: true)
        #expect(after.kvs.count == 200)
        for kv in after.kvs {
            #expect(kv.modRevision == acknowledged[kv.key], "\(kv.key) kept the revision it was acknowledged with")
            #expect(String(decoding: kv.value, as: UTF8.self) == "value \(kv.key.split(separator: "/")[1])")
        }
        #expect(after.revision >= acknowledged.values.max() ?? 0)
        #expect(try await store.range("cilium/state/services/v1/crash/default/echo").kvs.count == 1, "the export is there too")
    }

    @Test("mesh address errors: in use → exit 1 naming --mesh-listen; 0.0.0.0 without --mesh-advertise → exit 64")
    func meshAddressErrors() async throws {
        let dataDir = Self.tempDir()
        defer { try? FileManager.default.removeItem(at: dataDir) }
        let manifest = TestManifest(clusterIP: "127.0.33.20", port: try await freePort(), backendIPs: ["127.0.33.21"], backendPort: try await freePort())
        let taken = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.33.1", port: 0).get()
        defer { taken.close(promise: nil) }
        let result = try await InterlinkProcess.run([
            "agent", "--cluster-name", "busy", "--manifests", try manifest.write(), "--api-listen", "127.0.33.1:\(try await freePort(on: "127.0.33.1"))",
            "--mesh-listen", "127.0.33.1:\(taken.localAddress!.port!)", "--data-dir", dataDir.path,
        ])
        #expect(result.status == 1)
        #expect(result.stderr.contains("--mesh-listen") && result.stderr.contains("in use"), "\(result.stderr)")

        let everywhere = try await InterlinkProcess.run(["agent", "--manifests", try manifest.write(), "--mesh-listen", "0.0.0.0:9877", "--data-dir", dataDir.path])
        #expect(everywhere.status == 64)
        #expect(everywhere.stderr.contains("--mesh-advertise"))
    }
}

/// A frontend someone else listens on, another agent included: `SO_REUSEPORT` must not let a
/// second agent quietly share it.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct FrontendInUseTests {
    @Test("a second agent on a frontend the first serves exits 1 naming the frontend; the first goes on serving", arguments: DataPlaneKind.allCases)
    func secondAgentRefused(plane: DataPlaneKind) async throws {
        let backendPort = try await freePort(on: "127.0.47.11")
        let backend = try await TestBackend.start(name: "b1", at: SocketEndpoint("127.0.47.11:\(backendPort)")!)
        let manifest = TestManifest(
            clusterIP: "127.0.47.10", port: try await freePort(on: "127.0.47.10"), backendIPs: ["127.0.47.11"], backendPort: backendPort)
        let manifests = try manifest.write()
        func arguments(_ name: String) async throws -> [String] {
            let dataDir = AgentStoreProcessTests.tempDir().path
            return ["agent", "--cluster-name", name, "--manifests", manifests, "--kvstore", "none", "--data-dir", dataDir,
                    "--api-listen", "127.0.47.1:\(try await freePort(on: "127.0.47.1"))", "--data-plane", plane.rawValue, "--log-level", "error"]
        }
        let (first, _, _) = try InterlinkProcess.start(try await arguments("first"))
        defer { first.terminate(); first.waitUntilExit() }
        #expect(await waitUntil(.seconds(20)) { (try? await TestClient.firstLine(from: manifest.frontend)) == "b1" })

        let second = try await InterlinkProcess.run(try await arguments("second"))
        #expect(second.status == 1)
        #expect(second.stderr.contains("cannot listen on \(manifest.frontend) for Service default/echo") && second.stderr.contains("in use"), "\(second.stderr)")
        for _ in 0..<20 {
            #expect(try await TestClient.firstLine(from: manifest.frontend) == "b1", "the first agent still takes every connection")
        }
        await backend.stop()
    }
}
