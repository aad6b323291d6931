import Foundation
import InterlinkCore
import Testing

/// kubectl's output through the command line: standard input for `validate -` and
/// `apply -f -`, Cilium's global-service example run by an agent with `--default-frontend`,
/// and the skipped objects said once.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct KubernetesCommandLineTests {
    static let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("examples/kubernetes")

    /// `interlink ARGS < file`, through the shell as a user pipes kubectl into it.
    static func piped(_ file: URL, _ arguments: [String]) async throws -> InterlinkProcess.Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        let command = ([InterlinkProcess.executable.path] + arguments).map { "'\($0)'" }.joined(separator: " ")
        process.arguments = ["-c", "\(command) < '\(file.path)'"]
        let result = try await ChildProcess.run(process)
        return InterlinkProcess.Output(status: result.status, stdout: String(decoding: result.stdout, as: UTF8.self), stderr: String(decoding: result.stderr, as: UTF8.self))
    }

    @Test("validate -: kubectl's List from standard input, YAML or JSON; --strict refuses what would be skipped")
    func validateStandardInput() async throws {
        let list = try await Self.piped(Self.examples.appendingPathComponent("kubectl/kubectl-list.yaml"), ["validate", "-"])
        #expect(list.status == 0, "\(list.stderr)")
        #expect(list.stdout.contains("-: valid: 2 Service(s), 5 EndpointSlice(s), 5 backend(s)"), "\(list.stdout)")
        #expect(list.stdout.contains("(stdin): document 1: items[2]: skipped Service shop/checkout-pods: clusterIP None"))
        let json = try await Self.piped(Self.examples.appendingPathComponent("kubectl/services.json"), ["validate", "-"])
        #expect(json.status == 0 && json.stdout.contains("shop/inventory 127.0.162.10:7070 -> 0 backend(s) global"), "\(json)")
        let strict = try await Self.piped(Self.examples.appendingPathComponent("kubectl/kubectl-list.yaml"), ["validate", "-", "--strict"])
        #expect(strict.status == 2 && strict.stderr.contains("(stdin): document 1: items[3]: Service shop/payments-gateway cannot be served: type ExternalName"), "\(strict.stderr)")
        let badOption = try await InterlinkProcess.run(["validate", "-", "--default-frontend", "somewhere"])
        #expect(badOption.status == 64 && badOption.stderr.contains("--default-frontend: somewhere is not an IP address"), "\(badOption.stderr)")
    }

    @Test("Cilium's global-service example runs with --default-frontend, saying once what it skipped; apply -f - takes kubectl's List")
    func ciliumExampleRuns() async throws {
        let port = try await freePort()
        let backends = [
            try await TestBackend.start(name: "rebel-base-1", at: SocketEndpoint("127.0.161.11:8080")!),
            try await TestBackend.start(name: "rebel-base-2", at: SocketEndpoint("127.0.161.12:8080")!),
        ]
        let api = "127.0.161.1:\(port)"
        let withoutFrontend = try await InterlinkProcess.run([
            "agent", "--manifests", Self.examples.appendingPathComponent("cilium-global-service").path, "--kvstore", "none", "--api-listen", api,
        ])
        #expect(withoutFrontend.status == 2 && withoutFrontend.stderr.contains("start the agent with --default-frontend ADDR"), "\(withoutFrontend.stderr)")

        let (process, _, errors) = try InterlinkProcess.start([
            "agent", "--manifests", Self.examples.appendingPathComponent("cilium-global-service").path, "--kvstore", "none",
            "--api-listen", api, "--default-frontend", "127.0.161.10", "--log-level", "notice",
        ])
        let log = OutputCollector(errors)
        defer {
            process.terminate()
            process.waitUntilExit()
        }
        #expect(await MeshCluster.waitForAPI("http://\(api)"))
        var reached: Set<String> = []
        for _ in 0..<40 { reached.insert(try await TestClient.firstLine(from: SocketEndpoint("127.0.161.10:80")!)) }
        #expect(reached == ["rebel-base-1", "rebel-base-2"])
        let skipped = log.text.components(separatedBy: "skipped 2 objects: Deployment rebel-base, ConfigMap rebel-base-response").count - 1
        #expect(skipped == 1, "said once at start: \(log.text)")

        let applied = try await Self.piped(Self.examples.appendingPathComponent("kubectl/kubectl-list.yaml"), ["apply", "-f", "-", "--api", "http://\(api)"])
        #expect(applied.status == 0, "\(applied.stderr)")
        #expect(applied.stdout.contains("service/shop/checkout created") && applied.stdout.contains("service/shop/cart created"), "\(applied.stdout)")
        #expect(applied.stdout.contains("skipped Service shop/payments-gateway: type ExternalName"), "the agent's report is printed")
        let services = try await Mesh.interlink(["services", "--api", "http://\(api)"])
        #expect(services.contains("shop/checkout  127.0.160.10:8080 (http)") && services.contains("default/rebel-base  127.0.161.10:80"), "\(services)")
        for backend in backends { await backend.stop() }
    }
}
