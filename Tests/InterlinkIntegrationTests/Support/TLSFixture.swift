import Foundation
import InterlinkMesh

/// A throw-away CA with a server certificate for 127.0.0.1 (also good for client auth: etcd's
/// gateway dials its own gRPC port with it) and client certificates (CN `client`, and each of
/// `users`: etcd takes the user from the CN), made with the openssl command.
struct TLSFixture: Sendable {
    let directory: URL
    var caCert: String { directory.appendingPathComponent("ca.pem").path }
    var serverCert: String { directory.appendingPathComponent("server.pem").path }
    var serverKey: String { directory.appendingPathComponent("server-key.pem").path }
    var clientCert: String { directory.appendingPathComponent("client.pem").path }
    var clientKey: String { directory.appendingPathComponent("client-key.pem").path }
    var clientFiles: EtcdTLSFiles { EtcdTLSFiles(trustedCAFile: caCert, certFile: clientCert, keyFile: clientKey) }

    /// The client certificate and key of CN `user` (one of `users`).
    func files(of user: String) -> EtcdTLSFiles {
        EtcdTLSFiles(trustedCAFile: caCert, certFile: directory.appendingPathComponent("\(user).pem").path, keyFile: directory.appendingPathComponent("\(user)-key.pem").path)
    }

    static var isAvailable: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl") }

    init(users: [String] = []) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("interlink-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let dir = directory.path
        try Self.openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=interlink-test-ca",
                          "-keyout", "\(dir)/ca-key.pem", "-out", "\(dir)/ca.pem"])
        let clients = (["client"] + users).map { ($0, "extendedKeyUsage=clientAuth") }
        for (name, extensions) in [("server", "subjectAltName=IP:127.0.0.1,DNS:*.mesh.cilium.io\nextendedKeyUsage=serverAuth,clientAuth")] + clients {
            try Self.openssl(["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=\(name)", "-keyout", "\(dir)/\(name)-key.pem", "-out", "\(dir)/\(name).csr"])
            try extensions.write(toFile: "\(dir)/\(name).ext", atomically: true, encoding: .utf8)
            try Self.openssl(["x509", "-req", "-in", "\(dir)/\(name).csr", "-CA", "\(dir)/ca.pem", "-CAkey", "\(dir)/ca-key.pem",
                              "-CAcreateserial", "-days", "2", "-extfile", "\(dir)/\(name).ext", "-out", "\(dir)/\(name).pem"])
        }
    }

    private static func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw EtcdServerError("openssl \(arguments.first ?? "") failed") }
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }
}
