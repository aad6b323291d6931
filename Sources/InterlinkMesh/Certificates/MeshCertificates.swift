import Crypto
import Foundation
import SwiftASN1
import X509

/// The mesh's certificates, made with swift-certificates and swift-crypto (no openssl): one CA
/// per mesh, and for each cluster a server certificate for its store and the client
/// certificates it presents, laid out as Cilium's clustermesh-apiserver certificates are.
///
/// Keys are ECDSA P-256 in PKCS#8 PEM, which etcd, etcdctl, Cilium and Interlink all read, and
/// are written readable by their owner only (0600).
public struct MeshCertificateAuthority: Sendable {
    public let certificate: Certificate
    let key: Certificate.PrivateKey

    /// The DNS name of a cluster's store in a Cilium mesh (`NAME.mesh.cilium.io`).
    public static func meshHostname(cluster: String) -> String { "\(cluster).mesh.cilium.io" }

    /// A new CA, valid for `days`. Its default name carries 8 random hex digits, so that an
    /// error can tell two meshes' CAs apart.
    public static func make(commonName: String? = nil, days: Int = 3650, now: Date = Date()) throws -> MeshCertificateAuthority {
        let commonName = commonName ?? "Interlink mesh CA " + String(UInt32.random(in: 0...UInt32.max), radix: 16).leftPadded(to: 8)
        let key = Certificate.PrivateKey(P256.Signing.PrivateKey())
        let name = try DistinguishedName {
            OrganizationName("Interlink")
            CommonName(commonName)
        }
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
            Critical(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true))
            SubjectKeyIdentifier(hash: key.publicKey)
        }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: key.publicKey,
            notValidBefore: now.addingTimeInterval(-300), notValidAfter: now.addingTimeInterval(Double(days) * 86400),
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256, extensions: extensions, issuerPrivateKey: key)
        return MeshCertificateAuthority(certificate: certificate, key: key)
    }

    /// The CA of `certificatePEM` and `keyPEM`; throws when they do not parse or do not match.
    public init(certificatePEM: String, keyPEM: String) throws {
        certificate = try Certificate(pemEncoded: certificatePEM)
        key = try Certificate.PrivateKey(pemEncoded: keyPEM)
        guard key.publicKey == certificate.publicKey else { throw CertificateFileError("the CA key is not the key of the CA certificate") }
    }

    init(certificate: Certificate, key: Certificate.PrivateKey) {
        self.certificate = certificate
        self.key = key
    }

    /// What a certificate is for.
    public enum Usage: Sendable {
        /// A store's server certificate: SANs are DNS names and IP addresses.
        case server(dnsNames: [String], ipAddresses: [String])
        /// A client certificate: the common name is the user.
        case client
    }

    /// A key and a certificate signed by this CA, as PEM: (certificate, key).
    public func issue(commonName: String, usage: Usage, days: Int = 825, now: Date = Date()) throws -> (certificate: String, key: String) {
        let key = Certificate.PrivateKey(P256.Signing.PrivateKey())
        let subject = try DistinguishedName {
            OrganizationName("Interlink")
            CommonName(commonName)
        }
        let authority = try certificate.extensions.subjectKeyIdentifier.map { AuthorityKeyIdentifier(keyIdentifier: $0.keyIdentifier) }
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.notCertificateAuthority)
            Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
            SubjectKeyIdentifier(hash: key.publicKey)
            if let authority { authority }
            switch usage {
            case .server(let dnsNames, let ipAddresses):
                try ExtendedKeyUsage([.serverAuth, .clientAuth])
                SubjectAlternativeNames(try dnsNames.map { .dnsName($0) } + ipAddresses.map { .ipAddress(ASN1OctetString(contentBytes: try Self.addressBytes($0)[...])) })
            case .client:
                try ExtendedKeyUsage([.clientAuth])
            }
        }
        let issued = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: key.publicKey,
            notValidBefore: now.addingTimeInterval(-300), notValidAfter: now.addingTimeInterval(Double(days) * 86400),
            issuer: certificate.subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256, extensions: extensions, issuerPrivateKey: self.key)
        return (try issued.serializeAsPEM().pemString, try key.serializeAsPEM().pemString)
    }

    public var certificatePEM: String { get throws { try certificate.serializeAsPEM().pemString } }
    public var keyPEM: String { get throws { try key.serializeAsPEM().pemString } }

    /// The 4 or 16 bytes of an IP address literal.
    public static func addressBytes(_ text: String) throws -> [UInt8] {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        throw CertificateFileError("\(text) is not an IP address")
    }
}

/// A certificate file that cannot be made or used.
public struct CertificateFileError: Error, Hashable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

private extension String {
    func leftPadded(to length: Int) -> String { String(repeating: "0", count: max(0, length - count)) + self }
}
