import Foundation
import InterlinkMesh
import Testing

/// A real etcd (Debian's `etcd-server`) on free loopback ports with a temporary data dir.
final class EtcdServer: @unchecked Sendable {
    // Immutable after init; `process` is only terminated.
    let clientURL: String
    private let process: Process
    let dataDir: URL

    static var executable: String? {
        ["/usr/bin/etcd", "/usr/local/bin/etcd"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static var isAvailable: Bool { executable != nil }

    /// Cancels the running test case (reported as skipped, with the reason) when `kind` needs
    /// etcd and it is not installed.
    static func require(for kind: StoreKind) throws {
        if kind == .etcd, !isAvailable {
            try Test.cancel("etcd is not installed (apt-get install -y etcd-server; .ci/run does it)")
        }
    }

    let clientPort: UInt16
    let peerPort: UInt16

    /// Starts etcd; give the ports and data dir of a stopped one to restart it with its data.
    /// With `tls`, clients must connect over https with a certificate signed by its CA.
    init(clientPort: UInt16? = nil, peerPort: UInt16? = nil, dataDir: URL? = nil, tls: TLSFixture? = nil) async throws {
        guard let executable = Self.executable else { throw EtcdServerError("etcd is not installed: apt-get install -y etcd-server") }
        if let clientPort { self.clientPort = clientPort } else { self.clientPort = try await freePort() }
        if let peerPort { self.peerPort = peerPort } else { self.peerPort = try await freePort() }
        let clientPort = self.clientPort, peerPort = self.peerPort
        self.dataDir = dataDir ?? FileManager.default.temporaryDirectory.appendingPathComponent("interlink-etcd-\(UUID().uuidString)")
        clientURL = "\(tls == nil ? "http" : "https")://127.0.0.1:\(clientPort)"
        let peerURL = "http://127.0.0.1:\(peerPort)"
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = [
            "--name", "test", "--data-dir", self.dataDir.path,
            "--listen-client-urls", clientURL, "--advertise-client-urls", clientURL,
            "--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL,
            "--initial-cluster", "test=\(peerURL)", "--log-level", "error",
        ]
        if let tls {
            process.arguments! += [
                "--cert-file", tls.serverCert, "--key-file", tls.serverKey, "--client-cert-auth", "--trusted-ca-file", tls.caCert,
            ]
        }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = ContinuousClock.now + .seconds(20)
        let probe = try EtcdClient(endpoints: [clientURL], tls: tls?.clientFiles, requestTimeout: .seconds(1))
        while ContinuousClock.now < deadline {
            if (try? await probe.range("health")) != nil {
                await probe.shutdown()
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        await probe.shutdown()
        stop()
        throw EtcdServerError("etcd did not become healthy on \(clientURL) within 20 s")
    }

    /// Stops etcd; removes its data unless `keepData` (to restart it with `restart()`).
    func stop(keepData: Bool = false) {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        if !keepData { try? FileManager.default.removeItem(at: dataDir) }
    }

    /// A new etcd on the same ports and data (after `stop(keepData: true)`).
    func restart() async throws -> EtcdServer {
        try await EtcdServer(clientPort: clientPort, peerPort: peerPort, dataDir: dataDir)
    }
}

struct EtcdServerError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
