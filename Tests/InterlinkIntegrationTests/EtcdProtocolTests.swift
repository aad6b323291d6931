import Foundation
import GRPCCore
@testable import InterlinkMesh
import Testing

/// etcd's gRPC API as etcd itself answers it, request by request: every case runs against a
/// real etcd and against the embedded store, with etcd's own generated-message types and no
/// client logic in between, so the embedded store is held to what etcd does.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct EtcdProtocolTests {
    typealias WatchRequest = Etcdserverpb_WatchRequest

    static func create(_ prefix: String, start: Int64 = 0, filters: [Etcdserverpb_WatchCreateRequest.FilterType] = []) -> WatchRequest {
        var create = Etcdserverpb_WatchCreateRequest()
        create.key = Data(prefix.utf8)
        create.rangeEnd = Data(prefixRangeEnd(prefix))
        create.startRevision = start
        create.filters = filters
        var request = WatchRequest()
        request.createRequest = create
        return request
    }

    @Test("one watch stream, many watchers: created in request order with distinct IDs, events to the right watcher, cancel ends one, a progress request is answered", arguments: StoreKind.allCases)
    func multiplexedWatch(_ kind: StoreKind) async throws {
        try await KVStoreConformanceTests.withStore(kind) { etcd, _ in
            let client = Etcdserverpb_Watch.Client(wrapping: etcd.connections[0].client)
            let (requests, input) = AsyncStream.makeStream(of: WatchRequest.self)
            // Sent before the answer starts: etcd sends its response headers with its first message.
            for prefix in ["a/", "b/", "c/"] { input.yield(Self.create(prefix)) }
            try await withTimeLimit(.seconds(30)) {
                try await client.watch(requestProducer: { writer in
                    for await request in requests { try await writer.write(request) }
                }, onResponse: { response in
                    var messages = response.messages.makeAsyncIterator()
                    func next() async throws -> Etcdserverpb_WatchResponse {
                        guard let message = try await messages.next() else { throw EtcdServerError("the watch stream ended") }
                        return message
                    }
                    var ids: [Int64] = []
                    for _ in 0..<3 {
                        let created = try await next()
                        #expect(created.created && !created.canceled)
                        ids.append(created.watchID)
                    }
                    #expect(ids == [0, 1, 2], "IDs count from 0 in request order, as etcd's: \(ids)")
                    let written = try await etcd.put("b/1", value: [1])
                    try await etcd.put("a/1", value: [2])
                    var seen: [Int64: [String]] = [:]
                    while seen.values.joined().count < 2 {
                        let message = try await next()
                        seen[message.watchID, default: []] += message.events.map { String(decoding: $0.kv.key, as: UTF8.self) }
                        if message.watchID == 1 { #expect(message.header.revision == written && message.events.first?.kv.modRevision == written) }
                    }
                    #expect(seen == [0: ["a/1"], 1: ["b/1"]], "each watcher sees only its keys: \(seen)")
                    var cancel = WatchRequest()
                    cancel.cancelRequest.watchID = 0
                    input.yield(cancel)
                    let cancelled = try await next()
                    #expect(cancelled.watchID == 0 && cancelled.canceled, "\(cancelled)")
                    try await etcd.put("a/2", value: [3])
                    let last = try await etcd.put("c/1", value: [4])
                    let after = try await next()
                    #expect(after.watchID == 2 && after.events.map(\.kv.key) == [Data("c/1".utf8)], "a cancelled watcher gets nothing more: \(after)")
                    var progress = WatchRequest()
                    progress.progressRequest = Etcdserverpb_WatchProgressRequest()
                    input.yield(progress)
                    let notice = try await next()
                    #expect(notice.watchID == -1 && notice.events.isEmpty && notice.header.revision == last, "\(notice)")
                    input.finish()
                })
            }
        }
    }

    @Test("a watch from a compacted revision is created, then cancelled with compact_revision; NOPUT filters puts", arguments: StoreKind.allCases)
    func compactedAndFiltered(_ kind: StoreKind) async throws {
        try await KVStoreConformanceTests.withStore(kind) { etcd, _ in
            let first = try await etcd.put("k/1", value: [1])
            try await etcd.put("k/1", value: [2])
            let compacted = try await etcd.put("k/1", value: [3])
            try await etcd.compact(revision: compacted)
            let client = Etcdserverpb_Watch.Client(wrapping: etcd.connections[0].client)
            let (requests, input) = AsyncStream.makeStream(of: WatchRequest.self)
            input.yield(Self.create("k/", start: first))
            try await withTimeLimit(.seconds(30)) {
                try await client.watch(requestProducer: { writer in
                    for await request in requests { try await writer.write(request) }
                }, onResponse: { response in
                    var messages = response.messages.makeAsyncIterator()
                    var answers: [Etcdserverpb_WatchResponse] = []
                    while answers.last?.canceled != true, let message = try await messages.next() { answers.append(message) }
                    #expect(answers.first?.created == true)
                    #expect(answers.last?.canceled == true && answers.last?.compactRevision == compacted, "\(answers)")
                    input.yield(Self.create("k/", filters: [.noput]))
                    let created = try await messages.next()
                    #expect(created?.created == true)
                    try await etcd.put("k/1", value: [4])
                    let deleted = try await etcd.delete("k/1")
                    #expect(deleted == 1)
                    let event = try await messages.next()
                    #expect(event?.events.map(\.type) == [.delete], "only the delete passes NOPUT: \(String(describing: event))")
                    input.finish()
                })
            }
        }
    }

    @Test("Range: limit gives more and the full count; sort order and target; keys_only; count_only; a paged prefix read sees every key", arguments: StoreKind.allCases)
    func rangeOptions(_ kind: StoreKind) async throws {
        try await KVStoreConformanceTests.withStore(kind) { etcd, url in
            for index in 0..<25 { try await etcd.put(String(format: "p/%02d", index), value: Array("v\(24 - index)".utf8)) }
            try await etcd.put("p/05", value: Array("again".utf8))
            let kv = Etcdserverpb_KV.Client(wrapping: etcd.connections[0].client)
            var request = Etcdserverpb_RangeRequest()
            request.key = Data("p/".utf8)
            request.rangeEnd = Data(prefixRangeEnd("p/"))
            request.limit = 10
            let page = try await kv.range(request)
            #expect(page.kvs.count == 10 && page.more && page.count == 25)
            #expect(page.kvs.first?.key == Data("p/00".utf8))
            request.sortOrder = .descend
            let descending = try await kv.range(request)
            #expect(descending.kvs.first?.key == Data("p/24".utf8) && descending.more && descending.count == 25)
            request.sortOrder = .none
            request.sortTarget = .mod  // NONE with a target other than KEY sorts ascending, as etcd does
            request.limit = 0
            let byMod = try await kv.range(request)
            #expect(byMod.kvs.last?.key == Data("p/05".utf8), "the key written last comes last")
            request.sortTarget = .key
            request.keysOnly = true
            #expect(try await kv.range(request).kvs.allSatisfy { $0.value.isEmpty })
            request.keysOnly = false
            request.countOnly = true
            let counted = try await kv.range(request)
            #expect(counted.kvs.isEmpty && counted.count == 25)
            let paged = try EtcdClient(endpoints: [url], requestTimeout: KVStoreConformanceTests.requestTimeout, pageSize: 7)
            let all = try await paged.range("p/", prefix: true)
            #expect(all.kvs.map(\.key) == (0..<25).map { String(format: "p/%02d", $0) }, "four pages of 7, at one revision")
            await paged.shutdown()
        }
    }

    @Test("Txn compares on value, version, create_revision, mod_revision and lease; success and failure ops answer", arguments: StoreKind.allCases)
    func txnCompares(_ kind: StoreKind) async throws {
        try await KVStoreConformanceTests.withStore(kind) { etcd, _ in
            let lease = try await etcd.grantLease(ttl: 60)
            let created = try await etcd.put("t/k", value: Array("one".utf8), lease: lease)
            let modified = try await etcd.put("t/k", value: Array("two".utf8), lease: lease)
            let kv = Etcdserverpb_KV.Client(wrapping: etcd.connections[0].client)
            func compare(_ target: Etcdserverpb_Compare.CompareTarget, _ result: Etcdserverpb_Compare.CompareResult, _ set: (inout Etcdserverpb_Compare) -> Void) -> Etcdserverpb_Compare {
                var compare = Etcdserverpb_Compare()
                compare.key = Data("t/k".utf8)
                compare.target = target
                compare.result = result
                set(&compare)
                return compare
            }
            let holding: [Etcdserverpb_Compare] = [
                compare(.value, .equal) { $0.value = Data("two".utf8) },
                compare(.version, .equal) { $0.version = 2 },
                compare(.create, .equal) { $0.createRevision = created },
                compare(.mod, .greater) { $0.modRevision = created },
                compare(.lease, .equal) { $0.lease = lease },
            ]
            let failing: [Etcdserverpb_Compare] = [
                compare(.value, .less) { $0.value = Data("one".utf8) },
                compare(.version, .notEqual) { $0.version = 2 },
                compare(.create, .greater) { $0.createRevision = modified },
                compare(.mod, .less) { $0.modRevision = modified },
                compare(.lease, .equal) { $0.lease = 0 },
            ]
            var read = Etcdserverpb_RequestOp()
            read.requestRange.key = Data("t/k".utf8)
            var write = Etcdserverpb_RequestOp()
            write.requestPut.key = Data("t/ok".utf8)
            write.requestPut.value = Data([1])
            for compare in holding {
                var txn = Etcdserverpb_TxnRequest()
                txn.compare = [compare]
                txn.success = [read]
                txn.failure = [write]
                let answer = try await kv.txn(txn)
                #expect(answer.succeeded, "\(compare.target) holds")
                #expect(answer.responses.first?.responseRange.kvs.first?.value == Data("two".utf8))
            }
            for compare in failing {
                var txn = Etcdserverpb_TxnRequest()
                txn.compare = [compare]
                txn.success = [read]
                txn.failure = [write]
                let answer = try await kv.txn(txn)
                #expect(!answer.succeeded, "\(compare.target) \(compare.result) fails")
                #expect(answer.responses.first?.responsePut.header.revision == answer.header.revision)
            }
            #expect(try await etcd.range("t/ok").kvs.first?.version == Int64(failing.count), "each failed txn ran its failure op")
        }
    }

    @Test("leases: TimeToLive lists keys and granted TTL, an unknown lease has TTL -1, keep-alive of one answers TTL 0, Leases lists them", arguments: StoreKind.allCases)
    func leaseAnswers(_ kind: StoreKind) async throws {
        try await KVStoreConformanceTests.withStore(kind) { etcd, _ in
            let lease = try await etcd.grantLease(ttl: 30)
            try await etcd.put("l/a", value: [1], lease: lease)
            try await etcd.put("l/b", value: [1], lease: lease)
            let lived = try await etcd.timeToLive(lease: lease)
            #expect(lived.granted == 30 && (28...30).contains(lived.ttl) && lived.keys.sorted() == ["l/a", "l/b"], "\(lived)")
            #expect(try await etcd.timeToLive(lease: 777).ttl == -1)
            #expect(try await etcd.keepAlive(lease: 777) == 0)
            #expect(try await etcd.keepAlive(lease: lease) == 30)
            let leases = try await Etcdserverpb_Lease.Client(wrapping: etcd.connections[0].client).leaseLeases(Etcdserverpb_LeaseLeasesRequest())
            #expect(leases.leases.map(\.id).contains(lease))
            try await etcd.revokeLease(lease)
            #expect(try await etcd.range("l/", prefix: true).kvs.isEmpty)
        }
    }

    @Test("Status and MemberList: one member that leads, with a stable ID in every header", arguments: StoreKind.allCases)
    func memberAnswers(_ kind: StoreKind) async throws {
        try await KVStoreConformanceTests.withStore(kind) { etcd, _ in
            let revision = try await etcd.put("m/k", value: [1])
            let status = try await Etcdserverpb_Maintenance.Client(wrapping: etcd.connections[0].client).status(Etcdserverpb_StatusRequest())
            #expect(status.leader == status.header.memberID && status.header.memberID != 0 && status.header.clusterID != 0)
            #expect(status.version.hasPrefix("3.") && status.dbSize > 0 && status.raftTerm >= 1 && status.header.revision == revision)
            let members = try await Etcdserverpb_Cluster.Client(wrapping: etcd.connections[0].client).memberList(Etcdserverpb_MemberListRequest())
            #expect(members.members.map(\.id) == [status.header.memberID] && members.header.clusterID == status.header.clusterID)
            let read = try await Etcdserverpb_KV.Client(wrapping: etcd.connections[0].client).range(.with { $0.key = Data("m/k".utf8) })
            #expect(read.header.memberID == status.header.memberID && read.header.clusterID == status.header.clusterID)
        }
    }
}
