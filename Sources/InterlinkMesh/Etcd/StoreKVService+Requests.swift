import Foundation
import GRPCCore

extension StoreKVService {
    static func key(_ bytes: Data) throws -> [UInt8] {
        guard !bytes.isEmpty else { throw RPCError(code: .invalidArgument, message: "etcdserver: key is not provided") }
        return Array(bytes)
    }

    static func keyRange(_ key: Data, _ end: Data) throws -> KeyRange {
        KeyRange(key: try self.key(key), end: Array(end))
    }

    static func check(_ grant: MeshAccess.Grant, _ range: KeyRange) throws {
        do { try grant.scope.check(range) } catch { throw error.rpcError }
    }

    /// A range read with etcd's options: revision, limit (with `more` and the full `count`),
    /// sort order and target, min/max revision filters, keys only, count only.
    static func read(_ request: Etcdserverpb_RangeRequest, _ keys: KeyRange, store: EmbeddedStore, identity: StoreIdentity) throws -> Etcdserverpb_RangeResponse {
        let limit = request.limit > 0 ? Int(clamping: request.limit) : 0
        var order = request.sortOrder
        if order == .none, request.sortTarget != .key { order = .ascend }  // as etcd does
        let filtered = request.minModRevision > 0 || request.maxModRevision > 0 || request.minCreateRevision > 0 || request.maxCreateRevision > 0
        let byKey = request.sortTarget == .key && order != .descend
        var range = try store.range(keys, revision: request.revision, limit: byKey && !filtered ? limit : 0)
        if !byKey || filtered {
            var kvs = range.kvs.filter { kv in
                (request.minModRevision == 0 || kv.modRevision >= request.minModRevision)
                    && (request.maxModRevision == 0 || kv.modRevision <= request.maxModRevision)
                    && (request.minCreateRevision == 0 || kv.createRevision >= request.minCreateRevision)
                    && (request.maxCreateRevision == 0 || kv.createRevision <= request.maxCreateRevision)
            }
            if order != .none { kvs.sort { precedes($0, $1, request.sortTarget) != (order == .descend) && !same($0, $1, request.sortTarget) } }
            range.more = limit > 0 && kvs.count > limit
            range.kvs = limit > 0 ? Array(kvs.prefix(limit)) : kvs
        }
        return answer(request, range, identity: identity)
    }

    static func answer(_ request: Etcdserverpb_RangeRequest, _ range: StoreRange, identity: StoreIdentity) -> Etcdserverpb_RangeResponse {
        var response = Etcdserverpb_RangeResponse()
        response.header = identity.header(revision: range.revision)
        response.count = Int64(range.count)
        response.more = range.more
        if !request.countOnly { response.kvs = range.kvs.map { Mvccpb_KeyValue($0, keysOnly: request.keysOnly) } }
        return response
    }

    private static func sortKey(_ kv: KeyValue, _ target: Etcdserverpb_RangeRequest.SortTarget) -> (Int64, [UInt8]) {
        switch target {
        case .version: (kv.version, [])
        case .create: (kv.createRevision, [])
        case .mod: (kv.modRevision, [])
        case .value: (0, kv.value)
        default: (0, Array(kv.key.utf8))
        }
    }

    private static func precedes(_ a: KeyValue, _ b: KeyValue, _ target: Etcdserverpb_RangeRequest.SortTarget) -> Bool {
        let (x, y) = (sortKey(a, target), sortKey(b, target))
        return x.0 != y.0 ? x.0 < y.0 : x.1.lexicographicallyPrecedes(y.1)
    }

    private static func same(_ a: KeyValue, _ b: KeyValue, _ target: Etcdserverpb_RangeRequest.SortTarget) -> Bool {
        sortKey(a, target) == sortKey(b, target)
    }

    /// A put as the store applies it, with etcd's `ignore_value` and `ignore_lease`.
    static func putOperation(_ request: Etcdserverpb_PutRequest, key: [UInt8], store: EmbeddedStore) throws -> StoreOperation {
        var value = Array(request.value)
        var lease = request.lease
        if request.ignoreValue || request.ignoreLease {
            if request.ignoreValue, !request.value.isEmpty { throw RPCError(code: .invalidArgument, message: "etcdserver: value is provided") }
            if request.ignoreLease, request.lease != 0 { throw RPCError(code: .invalidArgument, message: "etcdserver: lease is provided") }
            let current: KeyValue?
            do { current = try store.range(KeyRange(key: key)).kvs.first } catch let error as StoreError { throw error.rpcError }
            guard let current else { throw RPCError(code: .invalidArgument, message: "etcdserver: key not found") }
            if request.ignoreValue { value = current.value }
            if request.ignoreLease { lease = current.lease }
        }
        return .put(key: key, value: value, lease: lease, prevKV: request.prevKv)
    }

    static func compare(_ compare: Etcdserverpb_Compare, _ grant: MeshAccess.Grant) throws -> StoreCompare {
        let key = try self.key(compare.key)
        guard compare.rangeEnd.isEmpty else {
            throw RPCError(code: .invalidArgument, message: "etcdserver: a compare over a key range (range_end) is not supported by the embedded store")
        }
        try check(grant, KeyRange(key: key))
        let target: StoreCompare.Target
        switch compare.target {
        case .version: target = .version(compare.version)
        case .create: target = .createRevision(compare.createRevision)
        case .mod: target = .modRevision(compare.modRevision)
        case .value: target = .value(Array(compare.value))
        case .lease: target = .lease(compare.lease)
        case .UNRECOGNIZED(let other): throw RPCError(code: .invalidArgument, message: "etcdserver: unknown compare target \(other)")
        }
        let result: Compare.Result
        switch compare.result {
        case .equal: result = .equal
        case .greater: result = .greater
        case .less: result = .less
        case .notEqual: result = .notEqual
        case .UNRECOGNIZED(let other): throw RPCError(code: .invalidArgument, message: "etcdserver: unknown compare result \(other)")
        }
        return StoreCompare(key: key, target: target, result: result)
    }

    static func operation(_ op: Etcdserverpb_RequestOp, _ grant: MeshAccess.Grant, store: EmbeddedStore) throws -> StoreOperation {
        switch op.request {
        case .requestPut(let put):
            let key = try self.key(put.key)
            try check(grant, KeyRange(key: key))
            return try putOperation(put, key: key, store: store)
        case .requestDeleteRange(let delete):
            let keys = try keyRange(delete.key, delete.rangeEnd)
            try check(grant, keys)
            return .deleteRange(keys, prevKV: delete.prevKv)
        case .requestRange(let range):
            let keys = try keyRange(range.key, range.rangeEnd)
            try check(grant, keys)
            return .range(keys)
        case .requestTxn:
            throw RPCError(code: .invalidArgument, message: "etcdserver: nested transactions are not supported by the embedded store")
        case nil:
            throw RPCError(code: .invalidArgument, message: "etcdserver: a transaction operation needs request_range, request_put or request_delete_range")
        }
    }
}
