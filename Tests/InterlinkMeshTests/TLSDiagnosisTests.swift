import Foundation
@testable import InterlinkMesh
import Testing
import X509

/// Why a store's certificate is refused, as `interlink status` says it, from certificates made
/// by the mesh CA code (`interlink certs`).
struct TLSDiagnosisTests {
    static let now = Date()

    static func serverCertificate(_ authority: MeshCertificateAuthority, ip: String = "127.0.0.1", dns: [String] = ["east.mesh.cilium.io", "localhost"],
                                  days: Int = 30, issued: Date = now) throws -> Certificate {
        let pem = try authority.issue(commonName: "east", usage: .server(dnsNames: dns, ipAddresses: [ip]), days: days, now: issued).certificate
        return try Certificate(pemEncoded: pem)
    }

    static func trusting(_ authority: MeshCertificateAuthority) throws -> (EtcdTLSFiles, URL) {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("interlink-ca-\(UUID().uuidString).crt")
        try authority.certificatePEM.write(to: file, atomically: true, encoding: .utf8)
        return (EtcdTLSFiles(trustedCAFile: file.path, certFile: nil, keyFile: nil), file)
    }

    @Test("each refusal names its cause and the fix: expired, not yet valid, another CA, no CA file, a name not in the certificate")
    func serverCertificateProblems() throws {
        let mesh = try MeshCertificateAuthority.make(), other = try MeshCertificateAuthority.make()
        let (tls, file) = try Self.trusting(mesh)
        defer { try? FileManager.default.removeItem(at: file) }
        let good = try Self.serverCertificate(mesh)
        let cases: [(Certificate, String, EtcdTLSFiles?, String)] = [
            (try Self.serverCertificate(mesh, days: 1, issued: Self.now.addingTimeInterval(-3 * 86400)), "127.0.0.1", tls, "expired on"),
            (try Self.serverCertificate(mesh, issued: Self.now.addingTimeInterval(86400)), "127.0.0.1", tls, "is not valid before"),
            (try Self.serverCertificate(other), "127.0.0.1", tls, "which trusted-ca-file \(file.path) does not hold"),
            (good, "127.0.0.1", nil, "is not signed by a CA this host trusts; set trusted-ca-file"),
            (good, "127.0.0.2", tls, "is for east.mesh.cilium.io, localhost, 127.0.0.1, not 127.0.0.2"),
        ]
        for (certificate, host, files, phrase) in cases {
            let text = TLSDiagnosis.serverCertificateProblem(certificate, host: host, tls: files, now: Self.now)
            #expect(text.contains(phrase), "\(text)")
        }
        #expect(!other.certificate.subject.description.isEmpty && other.certificate.subject != mesh.certificate.subject, "two CAs have two names")
    }

    @Test("names: exact (case-insensitive), one wildcard label, IPv6 SANs written as addresses")
    func nameMatching() throws {
        #expect(TLSDiagnosis.matches("East.Mesh.Cilium.io", host: "east.mesh.cilium.io"))
        #expect(TLSDiagnosis.matches("*.mesh.cilium.io", host: "east.mesh.cilium.io"))
        #expect(!TLSDiagnosis.matches("*.cilium.io", host: "east.mesh.cilium.io"))
        let mesh = try MeshCertificateAuthority.make()
        let names = TLSDiagnosis.subjectAlternativeNames(try Self.serverCertificate(mesh, ip: "::1"))
        #expect(names == ["east.mesh.cilium.io", "localhost", "::1"])
    }
}
