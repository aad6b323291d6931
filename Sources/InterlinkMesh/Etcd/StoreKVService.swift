import Foundation
import GRPCCore

/// etcd's `KV` service on the embedded store: Range, Put, DeleteRange, Txn and Compact, with
/// etcd's options, answers and error texts.
struct StoreKVService: Etcdserverpb_KV.SimpleServiceProtocol {
    let store: EmbeddedStore
    let identity: StoreIdentity
    let access: MeshAccess

    /// etcd's default `--max-txn-ops`.
    static let maximumTxnOperations = 128

    func range(request: Etcdserverpb_RangeRequest, context: ServerContext) async throws -> Etcdserverpb_RangeResponse {
        let grant = try access.grant(context)
        let keys = try Self.keyRange(request.key, request.rangeEnd)
        try Self.check(grant, keys)
        let store = self.store
        let identity = self.identity
        return try await storeCall { try Self.read(request, keys, store: store, identity: identity) }
    }

    func put(request: Etcdserverpb_PutRequest, context: ServerContext) async throws -> Etcdserverpb_PutResponse {
        let grant = try access.grant(context)
        try access.checkWrite(grant, cluster: identity.name)
        let key = try Self.key(request.key)
        try Self.check(grant, KeyRange(key: key))
        let operation = try Self.putOperation(request, key: key, store: store)
        let store = self.store
        let (revision, prev) = try await storeCall { () -> (Int64, KeyValue?) in
            guard case .put(let key, let value, let lease, _) = operation else { return (0, nil) }
            return try store.put(key: key, value: value, lease: lease)
        }
        var response = Etcdserverpb_PutResponse()
        response.header = identity.header(revision: revision)
        if request.prevKv, let prev { response.prevKv = Mvccpb_KeyValue(prev) }
        return response
    }

    func deleteRange(request: Etcdserverpb_DeleteRangeRequest, context: ServerContext) async throws -> Etcdserverpb_DeleteRangeResponse {
        let grant = try access.grant(context)
        try access.checkWrite(grant, cluster: identity.name)
        let keys = try Self.keyRange(request.key, request.rangeEnd)
        try Self.check(grant, keys)
        let store = self.store
        let (revision, deleted) = try await storeCall { try store.deleteRange(keys) }
        var response = Etcdserverpb_DeleteRangeResponse()
        response.header = identity.header(revision: revision)
        response.deleted = Int64(deleted.count)
        if request.prevKv { response.prevKvs = deleted.map { Mvccpb_KeyValue($0) } }
        return response
    }

    func txn(request: Etcdserverpb_TxnRequest, context: ServerContext) async throws -> Etcdserverpb_TxnResponse {
        let grant = try access.grant(context)
        let writes = (request.success + request.failure).contains { op in
            if case .requestRange = op.request { return false }
            return true
        }
        if writes { try access.checkWrite(grant, cluster: identity.name) }
        guard request.compare.count <= Self.maximumTxnOperations, request.success.count <= Self.maximumTxnOperations,
              request.failure.count <= Self.maximumTxnOperations
        else { throw RPCError(code: .invalidArgument, message: "etcdserver: too many operations in txn request") }
        let compares = try request.compare.map { try Self.compare($0, grant) }
        let store = self.store
        let success = try request.success.map { try Self.operation($0, grant, store: store) }
        let failure = try request.failure.map { try Self.operation($0, grant, store: store) }
        let (succeeded, results, revision) = try await storeCall { try store.txn(compare: compares, success: success, failure: failure) }
        var response = Etcdserverpb_TxnResponse()
        response.header = identity.header(revision: revision)
        response.succeeded = succeeded
        let applied = succeeded ? request.success : request.failure
        response.responses = zip(results, applied).map { result, asked in
            var op = Etcdserverpb_ResponseOp()
            switch result {
            case .put(let revision, let prev):
                var put = Etcdserverpb_PutResponse()
                put.header = identity.header(revision: revision)
                if let prev { put.prevKv = Mvccpb_KeyValue(prev) }
                op.responsePut = put
            case .deleteRange(let revision, let deleted):
                var delete = Etcdserverpb_DeleteRangeResponse()
                delete.header = identity.header(revision: revision)
                delete.deleted = Int64(deleted.count)
                if asked.requestDeleteRange.prevKv { delete.prevKvs = deleted.map { Mvccpb_KeyValue($0) } }
                op.responseDeleteRange = delete
            case .range(let range):
                op.responseRange = Self.answer(asked.requestRange, range, identity: identity)
            }
            return op
        }
        return response
    }

    func compact(request: Etcdserverpb_CompactionRequest, context: ServerContext) async throws -> Etcdserverpb_CompactionResponse {
        let grant = try access.grant(context)
        try access.checkWrite(grant, cluster: identity.name)
        let store = self.store
        try await storeCall { try store.compact(revision: request.revision) }
        var response = Etcdserverpb_CompactionResponse()
        response.header = identity.header(revision: store.revision)
        return response
    }
}
