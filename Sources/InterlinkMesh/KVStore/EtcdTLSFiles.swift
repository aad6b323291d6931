import AsyncHTTPClient
import NIOSSL

/// TLS for an etcd client, as Cilium's cluster files give it: a CA to trust, and a client
/// certificate and key for mutual TLS.
public struct EtcdTLSFiles: Hashable, Sendable {
    public var trustedCAFile: String?
    public var certFile: String?
    public var keyFile: String?

    public init(trustedCAFile: String?, certFile: String?, keyFile: String?) {
        self.trustedCAFile = trustedCAFile
        self.certFile = certFile
        self.keyFile = keyFile
    }

    /// An HTTP client that verifies the server against the CA and presents the certificate.
    /// Throws when a file cannot be read or parsed.
    public func makeHTTPClient() throws -> HTTPClient {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let trustedCAFile { tls.trustRoots = .file(trustedCAFile) }
        if let certFile, let keyFile {
            tls.certificateChain = try NIOSSLCertificate.fromPEMFile(certFile).map { .certificate($0) }
            tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: keyFile, format: .pem))
        }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.timeout.connect = .seconds(2)
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 4096  // a watch holds a connection
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }
}
