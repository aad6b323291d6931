import ArgumentParser
import Foundation
import InterlinkAgent
import InterlinkCore
import InterlinkMesh

/// The mesh port's TLS and users (`interlink agent`), named as etcd names its own flags.
struct MeshTLSOptions: ParsableArguments {
    @Option(help: "Directory of this cluster's certificates as 'interlink certs issue' writes them (server.crt, server.key, client.crt, client.key, ca.crt): sets the five options below.")
    var meshTlsDir: String?

    @Option(help: "Server certificate (PEM) of the mesh port: the store is then served over TLS (https://). Re-read when it changes.")
    var meshCertFile: String?

    @Option(help: "Private key (PEM) of --mesh-cert-file.")
    var meshKeyFile: String?

    @Option(help: "CA (PEM) that signs the mesh's certificates: clients must present a certificate it signed (mutual TLS; the certificate's CN is the user), and the stores this agent reads are verified against it.")
    var meshTrustedCaFile: String?

    @Option(help: "Client certificate (PEM) this agent presents to the stores it reads (CN remote); 'interlink connect' writes it into the cluster files.")
    var meshClientCertFile: String?

    @Option(help: "Private key (PEM) of --mesh-client-cert-file.")
    var meshClientKeyFile: String?

    @Option(help: "Client-certificate CNs that may only read the store, comma-separated (remote always may).")
    var meshReadOnlyUsers: String?

    @Option(help: "Client-certificate CNs that may write the store, comma-separated (the cluster's own name always may).")
    var meshAdminUsers: String?

    @Flag(help: "Serve the store in plaintext even on an address other hosts reach (by default the agent refuses).")
    var meshInsecure = false

    @Option(help: "Also serve etcd's JSON gateway (POST /v3/kv/range, ... for curl) on this loopback IP:PORT, read-only and in plaintext (default: not served).")
    var meshGatewayListen: SocketEndpoint?

    /// Applies the options to the embedded store's settings and the agent's client TLS.
    func apply(to embedded: inout EmbeddedStoreSettings, _ settings: inout AgentSettings) throws {
        func file(_ given: String?, _ name: String) -> String? {
            given ?? meshTlsDir.map { ($0 as NSString).appendingPathComponent(name) }
        }
        let cert = file(meshCertFile, "server.crt"), key = file(meshKeyFile, "server.key"), ca = file(meshTrustedCaFile, "ca.crt")
        let clientCert = file(meshClientCertFile, "client.crt"), clientKey = file(meshClientKeyFile, "client.key")
        let named: [(String, String?)] = [
            ("--mesh-cert-file", cert), ("--mesh-key-file", key), ("--mesh-trusted-ca-file", ca),
            ("--mesh-client-cert-file", clientCert), ("--mesh-client-key-file", clientKey),
        ]
        for (option, path) in named {
            if let path, !FileManager.default.isReadableFile(atPath: path) {
                throw ValidationError("\(option): \(path) cannot be read" + (meshTlsDir.map { " (from --mesh-tls-dir \($0): make it with interlink certs issue)" } ?? ""))
            }
        }
        guard (cert == nil) == (key == nil) else { throw ValidationError("--mesh-cert-file and --mesh-key-file go together: give both or neither") }
        guard (clientCert == nil) == (clientKey == nil) else {
            throw ValidationError("--mesh-client-cert-file and --mesh-client-key-file go together: give both or neither")
        }
        if ca != nil, cert == nil { throw ValidationError("--mesh-trusted-ca-file needs --mesh-cert-file and --mesh-key-file: mutual TLS is served over TLS") }
        if let cert, let key { embedded.tls = MeshServerTLS(certFile: cert, keyFile: key, trustedCAFile: ca) }
        if clientCert != nil || ca != nil { settings.meshClientTLS = EtcdTLSFiles(trustedCAFile: ca, certFile: clientCert, keyFile: clientKey) }
        embedded.readOnlyUsers = Self.users(meshReadOnlyUsers)
        embedded.adminUsers = Self.users(meshAdminUsers)
        if embedded.tls?.trustedCAFile == nil, !embedded.readOnlyUsers.union(embedded.adminUsers).isEmpty {
            throw ValidationError("--mesh-read-only-users and --mesh-admin-users name client-certificate users: they need --mesh-trusted-ca-file")
        }
        embedded.insecure = meshInsecure
        embedded.gatewayListen = meshGatewayListen
    }

    static func users(_ list: String?) -> Set<String> {
        Set((list ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
    }
}
