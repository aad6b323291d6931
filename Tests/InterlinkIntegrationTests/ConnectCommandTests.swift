import Foundation
import Testing

/// `interlink connect` / `disconnect` against agent processes: what they refuse, and why.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct ConnectCommandTests {
    /// Starts an agent process with an embedded store on 127.0.34.x; returns it and its API URL.
    static func agent(_ name: String, id: Int, host: Int) async throws -> (Process, String, URL) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("interlink-connect-\(UUID().uuidString)")
        let manifest = TestManifest(clusterIP: "127.0.34.\(host + 100)", port: try await freePort(), backendIPs: ["127.0.34.\(host + 150)"], backendPort: try await freePort())
        let api = "127.0.34.\(host):\(try await freePort(on: "127.0.34.\(host)"))"
        let (process, _, _) = try InterlinkProcess.start([
            "agent", "--cluster-name", name, "--cluster-id", "\(id)", "--manifests", try manifest.write(), "--api-listen", api,
            "--mesh-listen", "127.0.34.\(host):\(try await freePort(on: "127.0.34.\(host)"))", "--data-dir", dir.path, "--log-level", "error",
        ])
        let url = "http://\(api)"
        let cluster = await MeshCluster.waitForAPI(url)
        #expect(cluster, "agent \(name) answers")
        return (process, url, dir)
    }

    @Test("two agents with the same cluster ID are refused before anything is written, naming both")
    func duplicateIDs() async throws {
        let (a, aURL, aDir) = try await Self.agent("alpha", id: 5, host: 1)
        let (b, bURL, bDir) = try await Self.agent("beta", id: 5, host: 2)
        defer {
            for process in [a, b] { process.terminate(); process.waitUntilExit() }
            for dir in [aDir, bDir] { try? FileManager.default.removeItem(at: dir) }
        }
        let result = try await InterlinkProcess.run(["connect", aURL, bURL])
        #expect(result.status == 1)
        #expect(result.stderr.contains("alpha") && result.stderr.contains("beta") && result.stderr.contains("ID 5"), "\(result.stderr)")
        let files = (try? FileManager.default.contentsOfDirectory(atPath: aDir.appendingPathComponent("clustermesh").path)) ?? []
        #expect(files.isEmpty, "nothing was connected")
    }

    @Test("an agent that cannot be reached is named, with what to check")
    func unreachableAgent() async throws {
        let nowhere = "http://127.0.34.9:\(try await freePort(on: "127.0.34.9"))"
        let result = try await InterlinkProcess.run(["connect", nowhere, "http://127.0.34.8:1"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("cannot reach the agent at \(nowhere)"), "\(result.stderr)")
        #expect(!result.stderr.contains("Fatal"))
    }

    @Test("connect then disconnect: the agents follow each other, then forget each other")
    func connectAndDisconnect() async throws {
        let (a, aURL, aDir) = try await Self.agent("gamma", id: 6, host: 3)
        let (b, bURL, bDir) = try await Self.agent("delta", id: 7, host: 4)
        defer {
            for process in [a, b] { process.terminate(); process.waitUntilExit() }
            for dir in [aDir, bDir] { try? FileManager.default.removeItem(at: dir) }
        }
        let connected = try await InterlinkProcess.run(["connect", "--timeout", "20s", aURL, bURL])
        #expect(connected.status == 0, "\(connected.stderr)")
        #expect(connected.stdout.contains("connected: every cluster sees every other (gamma, delta)"))
        let disconnected = try await InterlinkProcess.run(["disconnect", aURL, bURL])
        #expect(disconnected.status == 0, "\(disconnected.stderr)")
        #expect(disconnected.stdout.contains("gamma: disconnected from delta"))
        #expect(await waitUntil(.seconds(5)) {
            ((try? FileManager.default.contentsOfDirectory(atPath: aDir.appendingPathComponent("clustermesh").path)) ?? ["x"]).isEmpty
        })
    }
}
