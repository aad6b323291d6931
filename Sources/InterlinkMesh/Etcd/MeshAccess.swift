import GRPCCore
import GRPCNIOTransportHTTP2
import X509

/// Who may do what on the mesh port, as etcd decides it with `--client-cert-auth`: the common
/// name of the client certificate is the user.
///
/// - With client certificates required (`--mesh-trusted-ca-file`): the CN `remote` and every CN
///   of `readOnlyUsers` may read the mesh's keys (`cilium/`); the agent's own user (its cluster
///   name) and every CN of `adminUsers` may also write (every key but the agent's own
///   `interlink/`). Any other CN is refused with etcd's `permission denied`.
/// - Without: every peer reads; writes only with `--mesh-allow-writes` (tests and benchmarks).
public struct MeshAccess: Hashable, Sendable {
    /// The CN that Cilium's clustermesh-apiserver gives the clusters that read it.
    public static let remoteUser = "remote"

    public var clientCertificatesRequired: Bool
    public var ownUser: String
    public var readOnlyUsers: Set<String>
    public var adminUsers: Set<String>
    /// Without client certificates: whether peers may write.
    public var allowWrites: Bool

    public init(clientCertificatesRequired: Bool, ownUser: String, readOnlyUsers: Set<String> = [], adminUsers: Set<String> = [], allowWrites: Bool = false) {
        self.clientCertificatesRequired = clientCertificatesRequired
        self.ownUser = ownUser
        self.readOnlyUsers = readOnlyUsers.union([Self.remoteUser])
        self.adminUsers = adminUsers
        self.allowWrites = allowWrites
    }

    /// What a caller may do: its key scope, and whether it may write.
    public struct Grant: Hashable, Sendable {
        public var scope: PeerKeyScope
        public var user: String?
        public var mayWrite: Bool { scope.allowWrites }
    }

    /// The grant of a caller with this certificate common name (nil: no certificate).
    public func grant(commonName: String?) throws(StoreError) -> Grant {
        guard clientCertificatesRequired else { return Grant(scope: PeerKeyScope(allowWrites: allowWrites), user: nil) }
        guard let commonName else { throw StoreError.permissionDenied }
        if commonName == ownUser || adminUsers.contains(commonName) { return Grant(scope: PeerKeyScope(allowWrites: true), user: commonName) }
        if readOnlyUsers.contains(commonName) { return Grant(scope: PeerKeyScope(allowWrites: false), user: commonName) }
        throw StoreError.permissionDenied
    }

    /// The grant of the caller of an RPC, from its TLS client certificate.
    func grant(_ context: ServerContext) throws -> Grant {
        do {
            return try grant(commonName: Self.commonName(context))
        } catch {
            throw error.rpcError
        }
    }

    /// Throws etcd's error for a write by a caller that may only read.
    func checkWrite(_ grant: Grant, cluster: String) throws {
        guard !grant.mayWrite else { return }
        if clientCertificatesRequired { throw StoreError.permissionDenied.rpcError }
        throw StoreError.readOnly(
            "etcdserver: permission denied: the embedded store of cluster \(cluster) is read-only for peers (it is written by its own agent; "
                + "give writers a client certificate whose CN is in --mesh-admin-users, or start the agent with --mesh-allow-writes)"
        ).rpcError
    }

    static func commonName(_ context: ServerContext) -> String? {
        guard let transport = context.transportSpecific as? HTTP2ServerTransport.Posix.Context,
              let certificate = transport.peerCertificate else { return nil }
        return certificate.commonName
    }
}

extension Certificate {
    /// The last common name of the subject, as etcd takes the user from it.
    public var commonName: String? {
        var found: String?
        for name in subject {
            for attribute in name where attribute.type == .RDNAttributeType.commonName {
                found = String(attribute.value) ?? found
            }
        }
        return found
    }
}
