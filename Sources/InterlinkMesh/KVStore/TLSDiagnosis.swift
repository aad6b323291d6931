import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import SwiftASN1
import X509

/// What went wrong in a failed TLS handshake with a store, and how to fix it, in place of
/// BoringSSL's reason code (`CERTIFICATE_VERIFY_FAILED` says neither which certificate nor why).
///
/// When this side refused the store's certificate, the certificate is fetched again without
/// verification and checked here against `trusted-ca-file`, the clock and the endpoint's
/// address. When the store refused this side's certificate (a TLS alert), the client
/// certificate file is checked.
enum TLSDiagnosis {
    /// The explanation of `failure` (the transport's error text), or nil if it is not a TLS one.
    /// `dialHost` is where the store is reached when it is not `host` (a `cilium-host-aliases` IP).
    static func explain(
        _ failure: String, endpoint: String, host: String, dialHost: String? = nil, port: Int, tls: EtcdTLSFiles?, now: Date = Date()
    ) async -> String? {
        let ownCertificate = tls?.certFile.map { "cert-file \($0)" } ?? "no client certificate"
        if failure.contains("CERTIFICATE_REQUIRED") {
            return "TLS handshake with \(endpoint) failed: the store requires a client certificate and this cluster file gives none; "
                + "set cert-file and key-file (interlink certs issue writes client.crt and client.key)"
        }
        if failure.contains("ALERT_CERTIFICATE_EXPIRED") || failure.contains("ALERT_UNKNOWN_CA") || failure.contains("ALERT_BAD_CERTIFICATE")
            || failure.contains("ALERT_UNSUPPORTED_CERTIFICATE") || failure.contains("ALERT_ACCESS_DENIED") {
            let detail = tls?.certFile.flatMap { clientCertificateProblem($0, now: now) } ?? "it is not signed by a CA the store trusts"
            return "TLS handshake with \(endpoint) failed: the store refused this cluster's client certificate (\(ownCertificate)): \(detail)"
        }
        if failure.contains("WRONG_VERSION_NUMBER") || failure.contains("HTTP_REQUEST") {
            return "TLS handshake with \(endpoint) failed: the store does not speak TLS there; use http:// if it serves plaintext"
        }
        guard failure.contains("CERTIFICATE_VERIFY_FAILED") || failure.contains("failedToValidateHostname") else { return nil }
        let problem: String
        if let chain = try? await fetchCertificate(host: host, dialHost: dialHost ?? host, port: port) {
            problem = serverCertificateProblem(chain, host: host, tls: tls, now: now)
        } else {
            problem = "its certificate could not be verified against \(tls?.trustedCAFile.map { "trusted-ca-file \($0)" } ?? "the system's CAs")"
        }
        return "TLS handshake with \(endpoint) failed: \(problem)"
    }

    /// Why the store's certificate is refused.
    static func serverCertificateProblem(_ certificate: Certificate, host: String, tls: EtcdTLSFiles?, now: Date) -> String {
        let name = "the store's certificate (\(certificate.subject))"
        if now > certificate.notValidAfter { return "\(name) expired on \(certificate.notValidAfter); renew it (interlink certs issue)" }
        if now < certificate.notValidBefore { return "\(name) is not valid before \(certificate.notValidBefore): check the clocks" }
        guard let caFile = tls?.trustedCAFile else {
            return "\(name), issued by \(certificate.issuer), is not signed by a CA this host trusts; set trusted-ca-file to the mesh's ca.crt"
        }
        let authorities = (try? NIOSSLCertificate.fromPEMFile(caFile))?.compactMap { try? Certificate(derEncoded: $0.toDERBytes()) } ?? []
        if !authorities.contains(where: { $0.subject == certificate.issuer && $0.publicKey.isValidSignature(certificate.signature, for: certificate) }) {
            return "\(name) is issued by \(certificate.issuer), which trusted-ca-file \(caFile) does not hold: give the CA of the store's mesh"
        }
        let names = subjectAlternativeNames(certificate)
        if !names.contains(where: { matches($0, host: host) }) {
            return "\(name) is for \(names.isEmpty ? "no name" : names.joined(separator: ", ")), not \(host): "
                + "reach the store at one of those, or issue its certificate with --ip/--dns \(host)"
        }
        return "\(name) was refused (signed by \(certificate.issuer), valid, names \(names.joined(separator: ", "))); check its key usage"
    }

    /// Why the store may have refused this client certificate, if the file says.
    static func clientCertificateProblem(_ file: String, now: Date) -> String? {
        guard let der = try? NIOSSLCertificate.fromPEMFile(file).first?.toDERBytes(), let certificate = try? Certificate(derEncoded: der) else {
            return "the file holds no PEM certificate"
        }
        if now > certificate.notValidAfter { return "it expired on \(certificate.notValidAfter); renew it (interlink certs issue)" }
        if now < certificate.notValidBefore { return "it is not valid before \(certificate.notValidBefore): check the clocks" }
        return "it is issued by \(certificate.issuer), which the store does not trust: use a certificate signed by the store's CA"
    }

    static func subjectAlternativeNames(_ certificate: Certificate) -> [String] {
        guard let names = try? certificate.extensions.subjectAlternativeNames else { return [] }
        return names.compactMap { name in
            switch name {
            case .dnsName(let dns): return dns
            case .ipAddress(let bytes):
                let raw = Array(bytes.bytes)
                if raw.count == 4 { return raw.map(String.init).joined(separator: ".") }
                if raw.count == 16, let address = try? SocketAddress(packedIPAddress: ByteBuffer(bytes: raw), port: 0) { return address.ipAddress }
                return nil
            default: return nil
            }
        }
    }

    static func matches(_ name: String, host: String) -> Bool {
        let host = host.lowercased(), name = name.lowercased()
        if name == host { return true }
        if name.hasPrefix("*."), let dot = host.firstIndex(of: ".") { return host[dot...] == name.dropFirst() }
        return false
    }

    /// The store's certificate, fetched without verifying it (to tell why verification failed):
    /// the verification callback takes it, whatever the rest of the handshake does.
    static func fetchCertificate(host: String, dialHost: String, port: Int) async throws -> Certificate {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = .none
        let context = try NIOSSLContext(configuration: configuration)
        let serverName = IPv4Literal.matches(host) || host.contains(":") ? nil : host
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let received = loop.makePromise(of: NIOSSLCertificate.self)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: loop)
                .connectTimeout(.seconds(3))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let handler = try NIOSSLClientHandler(context: context, serverHostname: serverName) { chain, verified in
                            if let first = chain.first { received.succeed(first) }
                            verified.succeed(.certificateVerified)
                        }
                        try channel.pipeline.syncOperations.addHandler(handler)
                    }
                }
                .connect(host: dialHost, port: port).get()
        } catch {
            // Never leave the promise unfulfilled (NIO traps on a leaked promise).
            received.fail(error)
            throw error
        }
        channel.closeFuture.whenComplete { _ in received.fail(NIOSSLError.noCertificateToValidate) }
        loop.scheduleTask(in: .seconds(3)) { received.fail(NIOSSLError.handshakeFailed(.unknownError([]))) }
        defer { channel.close(promise: nil) }
        let certificate = try await received.futureResult.get()
        return try Certificate(derEncoded: try certificate.toDERBytes())
    }
}
