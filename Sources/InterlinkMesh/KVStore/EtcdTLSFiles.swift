import GRPCNIOTransportHTTP2
import NIOCertificateReloading

/// TLS for an etcd client, as Cilium's cluster files give it: a CA to trust, and a client
/// certificate and key for mutual TLS. The certificate and key are re-read every
/// `refreshInterval` (rotation without a restart).
public struct EtcdTLSFiles: Hashable, Sendable {
    public var trustedCAFile: String?
    public var certFile: String?
    public var keyFile: String?
    /// etcd's `insecure-skip-tls-verify`: the server's certificate is not checked (encrypted,
    /// but anyone on the path can pose as the store). For tests only.
    public var skipServerVerification: Bool

    public init(trustedCAFile: String?, certFile: String?, keyFile: String?, skipServerVerification: Bool = false) {
        self.trustedCAFile = trustedCAFile
        self.certFile = certFile
        self.keyFile = keyFile
        self.skipServerVerification = skipServerVerification
    }

    public static let refreshInterval: Duration = .seconds(10)

    /// The transport security of a connection, and the reloader to run while it is used (for
    /// a client certificate). Throws, naming the file, when one cannot be read or parsed.
    func transportSecurity() throws -> (HTTP2ClientTransport.Posix.TransportSecurity, TimedCertificateReloader?) {
        let trust: (inout HTTP2ClientTransport.Posix.TransportSecurity.TLS) -> Void = { [skipServerVerification] config in
            if let trustedCAFile { config.trustRoots = .certificates([.file(path: trustedCAFile, format: .pem)]) }
            if skipServerVerification { config.serverCertificateVerification = .noVerification }
        }
        guard let certFile, let keyFile else { return (.tls(configure: trust), nil) }
        do {
            let reloader = try TimedCertificateReloader.makeReloaderValidatingSources(
                refreshInterval: Self.refreshInterval,
                certificateSource: .init(location: .file(path: certFile), format: .pem),
                privateKeySource: .init(location: .file(path: keyFile), format: .pem))
            return (try .mTLS(certificateReloader: reloader, configure: trust), reloader)
        } catch {
            throw KVStoreError.configuration("cert-file \(certFile) / key-file \(keyFile) cannot be used: \(error)")
        }
    }
}
