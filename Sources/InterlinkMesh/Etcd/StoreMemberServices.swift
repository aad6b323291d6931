import Foundation
import GRPCCore

/// etcd's `Maintenance` (Status, Alarm) and `Cluster` (MemberList) services for the embedded
/// store, a cluster of one member that is always its own leader; and `Auth.Authenticate`,
/// which answers as an etcd without password authentication does (users come from client
/// certificates).
struct StoreMaintenanceService: Etcdserverpb_Maintenance.SimpleServiceProtocol {
    let store: EmbeddedStore
    let identity: StoreIdentity
    let access: MeshAccess

    func status(request: Etcdserverpb_StatusRequest, context: ServerContext) async throws -> Etcdserverpb_StatusResponse {
        _ = try access.grant(context)
        let revision = store.revision
        var response = Etcdserverpb_StatusResponse()
        response.header = identity.header(revision: revision)
        response.version = StoreIdentity.version
        response.leader = identity.memberID
        response.raftTerm = StoreIdentity.raftTerm
        response.raftIndex = UInt64(max(0, revision))
        response.raftAppliedIndex = UInt64(max(0, revision))
        let size = store.databaseBytes
        response.dbSize = size
        response.dbSizeInUse = size
        return response
    }

    func alarm(request: Etcdserverpb_AlarmRequest, context: ServerContext) async throws -> Etcdserverpb_AlarmResponse {
        let grant = try access.grant(context)
        if request.action != .get { try access.checkWrite(grant, cluster: identity.name) }
        var response = Etcdserverpb_AlarmResponse()
        response.header = identity.header(revision: store.revision)
        return response  // the embedded store raises no alarms
    }
}

struct StoreClusterService: Etcdserverpb_Cluster.SimpleServiceProtocol {
    let store: EmbeddedStore
    let identity: StoreIdentity
    let access: MeshAccess

    func memberList(request: Etcdserverpb_MemberListRequest, context: ServerContext) async throws -> Etcdserverpb_MemberListResponse {
        _ = try access.grant(context)
        var member = Etcdserverpb_Member()
        member.id = identity.memberID
        member.name = identity.name
        member.clientUrls = identity.clientURLs
        var response = Etcdserverpb_MemberListResponse()
        response.header = identity.header(revision: store.revision)
        response.members = [member]
        return response
    }
}

struct StoreAuthService: Etcdserverpb_Auth.SimpleServiceProtocol {
    func authenticate(request: Etcdserverpb_AuthenticateRequest, context: ServerContext) async throws -> Etcdserverpb_AuthenticateResponse {
        throw RPCError(code: .failedPrecondition, message: "etcdserver: authentication is not enabled")
    }
}
