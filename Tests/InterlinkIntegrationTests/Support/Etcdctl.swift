import Foundation
import InterlinkMesh

/// etcd's own command-line client (Debian's `etcd-client`), run against a store as a user
/// would: `etcdctl --endpoints URL --cacert ... --cert ... --key ... ARGS`.
struct Etcdctl: Sendable {
    static let executable = "/usr/bin/etcdctl"
    static var isAvailable: Bool { FileManager.default.isExecutableFile(atPath: executable) }

    let endpoint: String
    /// The CA that signs the store's certificate, and the client certificate and key presented.
    var caFile: String?
    var certFile: String?
    var keyFile: String?

    /// etcdctl as the holder of `DIR/NAME/<identity>.crt` (`client`: CN remote, `admin`: CN
    /// NAME), as `interlink certs issue` writes them.
    init(endpoint: String, certificates dir: URL?, identity: String = "client") {
        self.endpoint = endpoint
        if let dir {
            caFile = dir.appendingPathComponent("ca.crt").path
            certFile = dir.appendingPathComponent("\(identity).crt").path
            keyFile = dir.appendingPathComponent("\(identity).key").path
        }
    }

    /// etcdctl with these TLS files (a client certificate and key, and the CA).
    init(endpoint: String, files: EtcdTLSFiles) {
        self.endpoint = endpoint
        caFile = files.trustedCAFile
        certFile = files.certFile
        keyFile = files.keyFile
    }

    /// Runs `etcdctl ARGS`; throws with its output unless it exits 0.
    @discardableResult
    func succeed(_ arguments: [String]) async throws -> String {
        let result = try await run(arguments)
        guard result.status == 0 else { throw EtcdServerError("etcdctl \(arguments.joined(separator: " ")): \(result)") }
        return result.stdout
    }

    var commonArguments: [String] {
        var arguments = ["--endpoints", endpoint, "--dial-timeout", "3s", "--command-timeout", "5s"]
        if let caFile { arguments += ["--cacert", caFile] }
        if let certFile, let keyFile { arguments += ["--cert", certFile, "--key", keyFile] }
        return arguments
    }

    struct Output: CustomStringConvertible {
        var status: Int32
        var stdout: String
        var stderr: String
        var description: String { "exit \(status), stdout \(stdout.debugDescription), stderr \(stderr.debugDescription)" }
    }

    func process(_ arguments: [String]) -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.executable)
        process.arguments = commonArguments + arguments
        process.environment = ["ETCDCTL_API": "3", "PATH": "/usr/bin:/bin"]
        return process
    }

    /// Runs `etcdctl ARGS` to completion, with `input` on its standard input.
    func run(_ arguments: [String], input: String? = nil) async throws -> Output {
        let result = try await ChildProcess.run(process(arguments), input: Data((input ?? "").utf8))
        return Output(status: result.status, stdout: String(decoding: result.stdout, as: UTF8.self), stderr: String(decoding: result.stderr, as: UTF8.self))
    }

    /// A long-running `etcdctl ARGS` (such as `watch`) whose output is collected as it comes.
    final class Running: Sendable {
        let process: Process
        private let collected: OutputCollector

        init(_ process: Process) throws {
            self.process = process
            let out = Pipe()
            process.standardOutput = out
            process.standardError = out
            collected = OutputCollector(out)
            try process.run()
        }

        var output: String { collected.text }

        func stop() {
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
        }
    }

    func start(_ arguments: [String]) throws -> Running { try Running(process(arguments)) }
}
