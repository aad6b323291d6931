import AsyncHTTPClient
import Foundation
import InterlinkCore
import NIOCore
import NIOPosix
import Testing

/// Silent and oversized clients cannot starve an agent: with 256 descriptors, 300 silent
/// connections to its mesh port leave the API, the data plane and the health checks working,
/// and are closed once idle; a declared body over the limit is refused before it is read.
@Suite(.serialized, .timeLimit(.minutes(5)), .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/prlimit"), "needs prlimit (util-linux)"))
struct StarvationTests {
    @Test("300 silent connections to the mesh port of an agent limited to 256 descriptors: API, traffic and health go on; the silent ones are closed")
    func silentConnections() async throws {
        let cluster = try await MeshCluster(name: "east", id: 1, subnet: 124, kind: .embedded, backendPort: try await freePort(on: "127.0.124.11"))
        try cluster.addService("echo", port: 8090, annotations: ["interlink.io/health-check-interval": "200ms"])
        cluster.launcher = ["/usr/bin/prlimit", "--nofile=256:256", "--"]
        cluster.extraArguments = ["--control-idle-timeout", "2s"]
        try cluster.startAgent()
        #expect(await cluster.waitHealthy())
        #expect(await cluster.localBackendsUp(within: .seconds(10)))

        var silent: [Channel] = []
        for _ in 0..<300 {
            if let channel = try? await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: "127.0.124.1", port: Int(cluster.meshPort)).get() { silent.append(channel) }
        }
        #expect(silent.count == 300, "the kernel backlog takes what the agent does not accept yet")
        try await Task.sleep(for: .seconds(1))
        #expect(await MeshCluster.waitForAPI(cluster.apiURL), "the API still answers")
        #expect(try await tallyBackends(cluster.frontend(8090), 20).values.reduce(0, +) == 20, "the data plane still proxies")
        let backends = try await cluster.backends()
        #expect(backends.count == 2 && backends.allSatisfy { $0.health == "up" }, "no check failed for want of descriptors: \(backends.map(\.healthDetail))")

        // The mesh port closes what stays silent past --control-idle-timeout (2 s), a slice at a time
        // as its connection limit frees places.
        #expect(await waitUntil(.seconds(30)) { silent.allSatisfy { !$0.isActive } }, "\(silent.count { $0.isActive }) silent connections still open")

        // Only the headers and one byte of the body are sent: the answer must not wait for the rest.
        let head = "POST /v1/manifests HTTP/1.1\r\nHost: agent\r\nContent-Type: application/json\r\nContent-Length: \(100 << 20)\r\n\r\n{"
        let answer = try await TestClient.exchange(with: SocketEndpoint("127.0.124.1:\(cluster.apiPort)")!, payload: ByteBuffer(string: head), halfClose: false)
        #expect(answer.firstLine.hasPrefix("HTTP/1.1 413"), "a declared 100 MiB body is refused at once: \(answer.firstLine)")
        #expect(await MeshCluster.waitForAPI(cluster.apiURL))
        await cluster.shutdown()
    }
}
