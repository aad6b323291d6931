import Foundation
import GRPCCore

extension EtcdClient {
    // MARK: KV

    /// Reads one key, or every key starting with `key` when `prefix` is true, at `revision`
    /// (0: the current one). A prefix is read in pages of `pageSize` keys, all at the revision
    /// of the first page.
    public func range(_ key: String, prefix: Bool = false, revision: Int64 = 0) async throws -> RangeResult {
        var request = Etcdserverpb_RangeRequest()
        request.key = Data(key.utf8)
        request.revision = revision
        guard prefix else {
            let answer = try await call { client, metadata, options in
                try await Etcdserverpb_KV.Client(wrapping: client).range(request, metadata: metadata, options: options)
            }
            return RangeResult(kvs: answer.kvs.map(\.model), revision: answer.header.revision)
        }
        request.rangeEnd = Data(prefixRangeEnd(key))
        if key.isEmpty { request.key = Data([0]) }  // every key, as etcd's client sends it
        request.limit = pageSize
        var kvs: [KeyValue] = []
        var listed: Int64 = revision
        while true {
            let page = request
            let answer = try await call { client, metadata, options in
                try await Etcdserverpb_KV.Client(wrapping: client).range(page, metadata: metadata, options: options)
            }
            if listed == 0 { listed = answer.header.revision }
            kvs.append(contentsOf: answer.kvs.map(\.model))
            guard answer.more, let last = answer.kvs.last else { break }
            request.key = last.key + Data([0])
            request.revision = listed
        }
        return RangeResult(kvs: kvs, revision: listed)
    }

    /// Writes a key (attached to `lease` when non-zero); returns the new store revision.
    @discardableResult
    public func put(_ key: String, value: [UInt8], lease: Int64 = 0) async throws -> Int64 {
        var request = Etcdserverpb_PutRequest()
        request.key = Data(key.utf8)
        request.value = Data(value)
        request.lease = lease
        let answer = try await call { client, metadata, options in
            try await Etcdserverpb_KV.Client(wrapping: client).put(request, metadata: metadata, options: options)
        }
        return answer.header.revision
    }

    /// Deletes a key, or every key starting with it; returns how many were deleted.
    @discardableResult
    public func delete(_ key: String, prefix: Bool = false) async throws -> Int {
        var request = Etcdserverpb_DeleteRangeRequest()
        request.key = Data(key.utf8)
        if prefix {
            request.rangeEnd = Data(prefixRangeEnd(key))
            if key.isEmpty { request.key = Data([0]) }
        }
        let answer = try await call { client, metadata, options in
            try await Etcdserverpb_KV.Client(wrapping: client).deleteRange(request, metadata: metadata, options: options)
        }
        return Int(clamping: answer.deleted)
    }

    /// Applies `success` if every comparison holds, else `failure`; true when it succeeded.
    public func txn(_ compares: [Compare], success: [TxnOperation], failure: [TxnOperation] = []) async throws -> Bool {
        func operation(_ op: TxnOperation) -> Etcdserverpb_RequestOp {
            var request = Etcdserverpb_RequestOp()
            switch op {
            case .put(let key, let value, let lease):
                var put = Etcdserverpb_PutRequest()
                put.key = Data(key.utf8)
                put.value = Data(value)
                put.lease = lease
                request.requestPut = put
            case .delete(let key):
                var delete = Etcdserverpb_DeleteRangeRequest()
                delete.key = Data(key.utf8)
                request.requestDeleteRange = delete
            }
            return request
        }
        var request = Etcdserverpb_TxnRequest()
        request.compare = compares.map { compare in
            var wire = Etcdserverpb_Compare()
            wire.key = Data(compare.key.utf8)
            switch compare.result {
            case .equal: wire.result = .equal
            case .greater: wire.result = .greater
            case .less: wire.result = .less
            case .notEqual: wire.result = .notEqual
            }
            switch compare.target {
            case .version: (wire.target, wire.version) = (.version, compare.value)
            case .createRevision: (wire.target, wire.createRevision) = (.create, compare.value)
            case .modRevision: (wire.target, wire.modRevision) = (.mod, compare.value)
            case .lease: (wire.target, wire.lease) = (.lease, compare.value)
            }
            return wire
        }
        request.success = success.map(operation)
        request.failure = failure.map(operation)
        let answer = try await call { client, metadata, options in
            try await Etcdserverpb_KV.Client(wrapping: client).txn(request, metadata: metadata, options: options)
        }
        return answer.succeeded
    }

    /// Discards history before `revision`; watches from older revisions are then cancelled.
    public func compact(revision: Int64) async throws {
        var request = Etcdserverpb_CompactionRequest()
        request.revision = revision
        request.physical = true
        _ = try await call { client, metadata, options in
            try await Etcdserverpb_KV.Client(wrapping: client).compact(request, metadata: metadata, options: options)
        }
    }

    // MARK: Leases

    /// Grants a lease of `ttl` seconds; returns its ID.
    public func grantLease(ttl: Int) async throws -> Int64 {
        var request = Etcdserverpb_LeaseGrantRequest()
        request.ttl = Int64(ttl)
        let answer = try await call { client, metadata, options in
            try await Etcdserverpb_Lease.Client(wrapping: client).leaseGrant(request, metadata: metadata, options: options)
        }
        guard answer.error.isEmpty else { throw KVStoreError.server(endpoint: currentEndpoint, status: 0, message: answer.error) }
        return answer.id
    }

    /// Renews a lease once, on a keep-alive stream; returns its TTL in seconds (0: it has
    /// expired or never existed).
    public func keepAlive(lease: Int64) async throws -> Int64 {
        var request = Etcdserverpb_LeaseKeepAliveRequest()
        request.id = lease
        let renewal = request
        return try await call { client, metadata, options in
            try await Etcdserverpb_Lease.Client(wrapping: client).leaseKeepAlive(
                metadata: metadata, options: options,
                requestProducer: { writer in try await writer.write(renewal) },
                onResponse: { response in
                    for try await answer in response.messages { return answer.ttl }
                    return 0
                })
        }
    }

    /// Revokes a lease: its keys are deleted.
    public func revokeLease(_ lease: Int64) async throws {
        var request = Etcdserverpb_LeaseRevokeRequest()
        request.id = lease
        _ = try await call { client, metadata, options in
            try await Etcdserverpb_Lease.Client(wrapping: client).leaseRevoke(request, metadata: metadata, options: options)
        }
    }

    /// A lease's remaining and granted TTL (-1: no such lease) and its keys.
    public func timeToLive(lease: Int64) async throws -> (ttl: Int64, granted: Int64, keys: [String]) {
        var request = Etcdserverpb_LeaseTimeToLiveRequest()
        request.id = lease
        request.keys = true
        let answer = try await call { client, metadata, options in
            try await Etcdserverpb_Lease.Client(wrapping: client).leaseTimeToLive(request, metadata: metadata, options: options)
        }
        return (answer.ttl, answer.grantedTtl, answer.keys.map { String(decoding: $0, as: UTF8.self) })
    }
}
