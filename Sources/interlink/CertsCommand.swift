import ArgumentParser
import Foundation
import InterlinkCore
import InterlinkMesh

struct CertsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certs",
        abstract: "Make the mesh's certificates: one CA, and for each cluster its store's server certificate and its client certificates.",
        discussion: """
            interlink certs init --dir DIR                            # DIR/ca.crt, DIR/ca.key
            interlink certs issue --dir DIR --cluster east --ip 127.0.1.1
            interlink agent ... --mesh-listen 127.0.1.1:9877 --mesh-tls-dir DIR/east

            issue writes DIR/NAME/: server.crt and server.key (the store's certificate: SANs \
            NAME.mesh.cilium.io, localhost and each --ip), client.crt and client.key (CN remote: \
            what this cluster presents to the stores it reads, which may only read), admin.crt \
            and admin.key (CN NAME: may write this cluster's store, for etcdctl), and ca.crt. \
            Keys are written 0600.
            """,
        subcommands: [CertsInitCommand.self, CertsIssueCommand.self])
}

struct CertsInitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "init", abstract: "Make the mesh CA: DIR/ca.crt and DIR/ca.key (0600).")

    @Option(help: "Directory of the mesh's certificates.")
    var dir: String

    @Option(help: "Days the CA is valid.")
    var days: Int = 3650

    func validate() throws {
        guard (1...36500).contains(days) else { throw ValidationError("--days: \(days) is not valid: expected 1 to 36500") }
    }

    func run() throws {
        let key = (dir as NSString).appendingPathComponent("ca.key")
        if FileManager.default.fileExists(atPath: key) {
            throw ValidationError("\(key) already exists: a new CA would not trust the certificates the old one signed; remove it first, or use another --dir")
        }
        try Self.writeAuthority(dir: dir, days: days)
        print("mesh CA: \((dir as NSString).appendingPathComponent("ca.crt")) (key \(key), 0600), valid \(days) days")
    }

    /// Makes a mesh CA in `dir` (ca.crt, ca.key 0600) and returns it.
    @discardableResult
    static func writeAuthority(dir: String, days: Int) throws -> MeshCertificateAuthority {
        let authority = try MeshCertificateAuthority.make(days: days)
        try CertificateFiles.write(try authority.certificatePEM, to: (dir as NSString).appendingPathComponent("ca.crt"), secret: false)
        try CertificateFiles.write(try authority.keyPEM, to: (dir as NSString).appendingPathComponent("ca.key"), secret: true)
        return authority
    }
}

struct CertsIssueCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "issue", abstract: "Make a cluster's certificates in DIR/NAME/, signed by the mesh CA.")

    @Option(help: "Directory of the mesh's certificates (with ca.crt and ca.key from certs init).")
    var dir: String

    @Option(help: "The cluster's name.")
    var cluster: String

    @Option(help: "An IP address the cluster's store is reached at (repeat for several).")
    var ip: [String] = []

    @Option(help: "Another DNS name of the cluster's store (repeat for several).")
    var dns: [String] = []

    @Option(help: "Days the certificates are valid.")
    var days: Int = 825

    func validate() throws {
        do { _ = try ClusterName(cluster) } catch { throw ValidationError("--cluster: \(error)") }
        for address in ip where (try? MeshCertificateAuthority.addressBytes(address)) == nil {
            throw ValidationError("--ip: \(address) is not an IPv4 or IPv6 address")
        }
        guard (1...36500).contains(days) else { throw ValidationError("--days: \(days) is not valid: expected 1 to 36500") }
    }

    func run() throws {
        let caCert = (dir as NSString).appendingPathComponent("ca.crt"), caKey = (dir as NSString).appendingPathComponent("ca.key")
        guard let certificatePEM = try? String(contentsOfFile: caCert, encoding: .utf8), let keyPEM = try? String(contentsOfFile: caKey, encoding: .utf8) else {
            throw ValidationError("\(caCert) and \(caKey) cannot be read: make the mesh CA first with interlink certs init --dir \(dir)")
        }
        let authority: MeshCertificateAuthority
        do { authority = try MeshCertificateAuthority(certificatePEM: certificatePEM, keyPEM: keyPEM) } catch {
            throw ValidationError("\(caCert) / \(caKey) are not a CA certificate and its key: \(error)")
        }
        let out = try Self.writeCluster(authority, dir: dir, cluster: cluster, ip: ip, dns: dns, days: days)
        print("\(cluster): \(out)/server.crt (\(([MeshCertificateAuthority.meshHostname(cluster: cluster), "localhost"] + dns + ip).joined(separator: ", "))), client.crt (CN remote), admin.crt (CN \(cluster)), ca.crt")
    }

    /// Writes `cluster`'s certificates into DIR/NAME/ and returns that folder.
    static func writeCluster(_ authority: MeshCertificateAuthority, dir: String, cluster: String, ip: [String], dns: [String], days: Int) throws -> String {
        let out = (dir as NSString).appendingPathComponent(cluster)
        let server = try authority.issue(
            commonName: cluster,
            usage: .server(dnsNames: [MeshCertificateAuthority.meshHostname(cluster: cluster), "localhost"] + dns, ipAddresses: ip), days: days)
        let client = try authority.issue(commonName: MeshAccess.remoteUser, usage: .client, days: days)
        let admin = try authority.issue(commonName: cluster, usage: .client, days: days)
        for (name, pair) in [("server", server), ("client", client), ("admin", admin)] {
            try CertificateFiles.write(pair.certificate, to: (out as NSString).appendingPathComponent("\(name).crt"), secret: false)
            try CertificateFiles.write(pair.key, to: (out as NSString).appendingPathComponent("\(name).key"), secret: true)
        }
        try CertificateFiles.write(try authority.certificatePEM, to: (out as NSString).appendingPathComponent("ca.crt"), secret: false)
        return out
    }
}

enum CertificateFiles {
    /// Writes `text` to `path` (its folder made if needed), 0600 when `secret`, else 0644.
    static func write(_ text: String, to path: String, secret: Bool) throws {
        let folder = (path as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        } catch {
            throw ValidationError("\(folder) cannot be created: \(error.localizedDescription)")
        }
        let temporary = path + ".tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8), attributes: [.posixPermissions: secret ? 0o600 : 0o644]) else {
            throw ValidationError("\(path) cannot be written")
        }
        guard rename(temporary, path) == 0 else {
            unlink(temporary)
            throw ValidationError("\(path) cannot be written: \(String(cString: strerror(errno)))")
        }
    }
}
