import Foundation
import GRPCCore

/// etcd's `Lease` service on the embedded store: Grant, Revoke, KeepAlive (one bidirectional
/// stream renews any number of leases), TimeToLive (with the keys the caller may see) and
/// Leases. As etcd: a keep-alive of a lease that does not exist answers TTL 0, TimeToLive
/// answers TTL -1, and Revoke fails with `requested lease not found`.
struct StoreLeaseService: Etcdserverpb_Lease.SimpleServiceProtocol {
    let store: EmbeddedStore
    let identity: StoreIdentity
    let access: MeshAccess

    func leaseGrant(request: Etcdserverpb_LeaseGrantRequest, context: ServerContext) async throws -> Etcdserverpb_LeaseGrantResponse {
        try access.checkWrite(try access.grant(context), cluster: identity.name)
        let store = self.store
        let id = try await storeCall { () throws -> Int64 in
            if request.ttl > EmbeddedStore.maximumLeaseTTL { throw RPCError(code: .outOfRange, message: "etcdserver: too large lease TTL") }
            return try store.grantLease(ttl: max(request.ttl, EmbeddedStore.minimumLeaseTTL), id: request.id)
        }
        var response = Etcdserverpb_LeaseGrantResponse()
        response.header = identity.header(revision: store.revision)
        response.id = id
        response.ttl = max(request.ttl, EmbeddedStore.minimumLeaseTTL)
        return response
    }

    func leaseRevoke(request: Etcdserverpb_LeaseRevokeRequest, context: ServerContext) async throws -> Etcdserverpb_LeaseRevokeResponse {
        try access.checkWrite(try access.grant(context), cluster: identity.name)
        let store = self.store
        try await storeCall { try store.revoke(lease: request.id) }
        var response = Etcdserverpb_LeaseRevokeResponse()
        response.header = identity.header(revision: store.revision)
        return response
    }

    func leaseKeepAlive(
        request: RPCAsyncSequence<Etcdserverpb_LeaseKeepAliveRequest, any Error>, response: RPCWriter<Etcdserverpb_LeaseKeepAliveResponse>,
        context: ServerContext
    ) async throws {
        try access.checkWrite(try access.grant(context), cluster: identity.name)
        for try await renewal in request {
            var answer = Etcdserverpb_LeaseKeepAliveResponse()
            answer.id = renewal.id
            answer.ttl = max(0, store.renewLease(renewal.id))
            answer.header = identity.header(revision: store.revision)
            try await response.write(answer)
        }
    }

    func leaseTimeToLive(request: Etcdserverpb_LeaseTimeToLiveRequest, context: ServerContext) async throws -> Etcdserverpb_LeaseTimeToLiveResponse {
        let grant = try access.grant(context)
        let store = self.store
        let (ttl, granted, keys) = try await storeCall { try store.timeToLive(lease: request.id) }
        var response = Etcdserverpb_LeaseTimeToLiveResponse()
        response.header = identity.header(revision: store.revision)
        response.id = request.id
        response.ttl = ttl
        response.grantedTtl = granted
        if request.keys { response.keys = keys.filter(grant.scope.isVisible).map { Data($0.utf8) } }
        return response
    }

    func leaseLeases(request: Etcdserverpb_LeaseLeasesRequest, context: ServerContext) async throws -> Etcdserverpb_LeaseLeasesResponse {
        _ = try access.grant(context)
        var response = Etcdserverpb_LeaseLeasesResponse()
        response.header = identity.header(revision: store.revision)
        response.leases = store.leaseIDs.map { id in
            var status = Etcdserverpb_LeaseStatus()
            status.id = id
            return status
        }
        return response
    }
}

