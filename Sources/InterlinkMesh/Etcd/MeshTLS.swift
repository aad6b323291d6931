import GRPCNIOTransportHTTP2
import Logging
import NIOCertificateReloading

/// The TLS of the mesh port (`--mesh-cert-file`, `--mesh-key-file`, `--mesh-trusted-ca-file`),
/// named as etcd names its own: a server certificate and key, and, when a CA is given, mutual
/// TLS: every client must present a certificate signed by it, whose common name is its user.
///
/// The certificate and key are re-read every `refreshInterval`, so that a rotated pair is
/// served to new connections without a restart.
public struct MeshServerTLS: Hashable, Sendable {
    public var certFile: String
    public var keyFile: String
    public var trustedCAFile: String?

    public init(certFile: String, keyFile: String, trustedCAFile: String?) {
        self.certFile = certFile
        self.keyFile = keyFile
        self.trustedCAFile = trustedCAFile
    }

    public static let refreshInterval: Duration = .seconds(10)

    /// A reloader primed with the files as they are now: throws when they cannot be read, do
    /// not parse, or the key is not the certificate's.
    func makeReloader(logger: Logger) throws -> TimedCertificateReloader {
        do {
            return try TimedCertificateReloader.makeReloaderValidatingSources(
                configuration: .init(
                    refreshInterval: Self.refreshInterval,
                    certificateSource: .init(location: .file(path: certFile), format: .pem),
                    privateKeySource: .init(location: .file(path: keyFile), format: .pem)
                ) { configuration in
                    configuration.onCertificateLoadFailed = { failure in
                        logger.warning("mesh certificate not reloaded: still serving the previous one", metadata: [
                            "cert-file": "\(certFile)", "key-file": "\(keyFile)", "error": "\(failure.error)",
                        ])
                    }
                })
        } catch {
            throw StoreServerError("--mesh-cert-file \(certFile) / --mesh-key-file \(keyFile) cannot be used: \(error)")
        }
    }

    func transportSecurity(_ reloader: TimedCertificateReloader) throws -> HTTP2ServerTransport.Posix.TransportSecurity {
        if let trustedCAFile {
            return try .mTLS(certificateReloader: reloader) { config in
                config.trustRoots = .certificates([.file(path: trustedCAFile, format: .pem)])
                config.clientCertificateVerification = .noHostnameVerification
            }
        }
        return try .tls(certificateReloader: reloader)
    }
}

/// The mesh port could not be served.
public struct StoreServerError: Error, Hashable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
