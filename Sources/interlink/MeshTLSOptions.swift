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

    /// Copies the options into the agent's flags (validated with the others).
    func apply(to flags: inout AgentFlags) {
        flags.meshTLSDir = meshTlsDir
        flags.meshCertFile = meshCertFile
        flags.meshKeyFile = meshKeyFile
        flags.meshTrustedCAFile = meshTrustedCaFile
        flags.meshClientCertFile = meshClientCertFile
        flags.meshClientKeyFile = meshClientKeyFile
        flags.meshReadOnlyUsers = meshReadOnlyUsers
        flags.meshAdminUsers = meshAdminUsers
        flags.meshInsecure = meshInsecure
        flags.meshGatewayListen = meshGatewayListen
    }
}
