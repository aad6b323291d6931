import Foundation
import InterlinkMesh

/// A real etcd (Debian's `etcd-server`) on free loopback ports with a temporary data dir.
final class EtcdServer: @unchecked Sendable {
    // Immutable after init; `process` is only terminated.
    let clientURL: String
    private let process: Process
    private let dataDir: URL

    static var executable: String? {
        ["/usr/bin/etcd", "/usr/local/bin/etcd"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static var isAvailable: Bool { executable != nil }

    init() async throws {
        guard let executable = Self.executable else { throw EtcdServerError("etcd is not installed: apt-get install -y etcd-server") }
        let clientPort = try await freePort()
        let peerPort = try await freePort()
        dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("interlink-etcd-\(UUID().uuidString)")
        clientURL = "http://127.0.0.1:\(clientPort)"
        let peerURL = "http://127.0.0.1:\(peerPort)"
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = [
            "--name", "test", "--data-dir", dataDir.path,
            "--listen-client-urls", clientURL, "--advertise-client-urls", clientURL,
            "--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL,
            "--initial-cluster", "test=\(peerURL)", "--log-level", "error",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            if (try? await EtcdClient(endpoints: [clientURL], requestTimeout: .seconds(1)).range("health")) != nil {
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        stop()
        throw EtcdServerError("etcd did not become healthy on \(clientURL) within 20 s")
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: dataDir)
    }
}

struct EtcdServerError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
