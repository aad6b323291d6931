import Foundation
import InterlinkMesh
import NIOCore
import Testing

/// Which kvstore a conformance case runs against.
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case embedded, etcd
    var testDescription: String { rawValue }
}

/// The kvstore conformance suite: the same cases, through the same etcd v3 gRPC client,
/// against the embedded store (served by this process, writes allowed) and a real etcd
/// (Debian's etcd-server, started by the test on a free port; skipped where it is missing).
@Suite(.serialized, .timeLimit(.minutes(5)))
struct KVStoreConformanceTests {
    /// Runs `body` against a fresh store of `kind`; stops it afterwards.
    /// Generous: both stores fsync every write, and under the whole suite's parallel load (several
    /// etcds and SQLite files) an fsync has been seen to take seconds.
    static let requestTimeout = Duration.seconds(20)

    static func withStore(_ kind: StoreKind, _ body: (EtcdClient, String) async throws -> Void) async throws {
        switch kind {
        case .etcd:
            try EtcdServer.require(for: kind)
            let server = try await EtcdServer()
            defer { server.stop() }
            let client = try EtcdClient(endpoints: [server.clientURL], requestTimeout: requestTimeout)
            do { try await body(client, server.clientURL) } catch {
                await client.shutdown()
                throw error
            }
            await client.shutdown()
        case .embedded:
            let server = try await EmbeddedStoreServer()
            let client = try EtcdClient(endpoints: [server.clientURL], requestTimeout: requestTimeout)
            do {
                try await body(client, server.clientURL)
            } catch {
                await client.shutdown()
                await server.stop()
                throw error
            }
            await client.shutdown()
            await server.stop()
        }
    }

    static func text(_ value: [UInt8]) -> String { String(decoding: value, as: UTF8.self) }

    @Test("put, get, prefix range (east does not match east2), delete", arguments: StoreKind.allCases)
    func putRangeDelete(kind: StoreKind) async throws {
        try await Self.withStore(kind) { etcd, _ in
            try await etcd.put("cilium/state/services/v1/east/default/a", value: Array("1".utf8))
            try await etcd.put("cilium/state/services/v1/east/default/b", value: Array("2".utf8))
            try await etcd.put("cilium/state/services/v1/east2/default/a", value: Array("3".utf8))
            let one = try await etcd.range("cilium/state/services/v1/east/default/a")
            #expect(one.kvs.map { Self.text($0.value) } == ["1"])
            let east = try await etcd.range("cilium/state/services/v1/east/", prefix: true)
            #expect(east.kvs.map(\.key) == ["cilium/state/services/v1/east/default/a", "cilium/state/services/v1/east/default/b"])
            #expect(try await etcd.delete("cilium/state/services/v1/east/", prefix: true) == 2)
            #expect(try await etcd.range("cilium/state/services/v1/", prefix: true).kvs.map(\.key) == ["cilium/state/services/v1/east2/default/a"])
            #expect(try await etcd.range("missing").kvs.isEmpty)
        }
    }

    @Test("revisions increase; a read at a past revision sees the old value", arguments: StoreKind.allCases)
    func revisions(kind: StoreKind) async throws {
        try await Self.withStore(kind) { etcd, _ in
            let first = try await etcd.put("k", value: Array("old".utf8))
            let second = try await etcd.put("k", value: Array("new".utf8))
            #expect(second == first + 1)
            let now = try await etcd.range("k")
            #expect(now.kvs.first?.version == 2 && now.kvs.first?.createRevision == first && now.kvs.first?.modRevision == second)
            #expect(try await etcd.range("k", revision: first).kvs.map { Self.text($0.value) } == ["old"])
        }
    }

    @Test("txn: a compare on mod_revision guards a write", arguments: StoreKind.allCases)
    func txn(kind: StoreKind) async throws {
        try await Self.withStore(kind) { etcd, _ in
            let revision = try await etcd.put("owner", value: Array("a".utf8))
            let won = try await etcd.txn([Compare(key: "owner", target: .modRevision, result: .equal, value: revision)], success: [.put(key: "owner", value: Array("b".utf8), lease: 0)])
            #expect(won)
            let lost = try await etcd.txn([Compare(key: "owner", target: .modRevision, result: .equal, value: revision)], success: [.put(key: "owner", value: Array("c".utf8), lease: 0)], failure: [.put(key: "loser", value: [1], lease: 0)])
            #expect(!lost)
            #expect(try await etcd.range("owner").kvs.map { Self.text($0.value) } == ["b"])
            #expect(try await etcd.range("loser").kvs.count == 1, "the failure branch ran")
            let created = try await etcd.txn([Compare(key: "fresh", target: .createRevision, result: .equal, value: 0)], success: [.put(key: "fresh", value: [1], lease: 0)])
            #expect(created, "create_revision 0 means the key does not exist")
        }
    }

    @Test("leases: keys go with a revoked lease, keep-alive renews, an unrenewed lease expires", arguments: StoreKind.allCases)
    func leases(kind: StoreKind) async throws {
        try await Self.withStore(kind) { etcd, _ in
            let lease = try await etcd.grantLease(ttl: 60)
            try await etcd.put("leased", value: [1], lease: lease)
            #expect(try await etcd.range("leased").kvs.first?.lease == lease)
            #expect(try await etcd.keepAlive(lease: lease) > 0)
            try await etcd.revokeLease(lease)
            #expect(try await etcd.range("leased").kvs.isEmpty)

            let short = try await etcd.grantLease(ttl: 2)
            try await etcd.put("short", value: [1], lease: short)
            let deadline = ContinuousClock.now + .seconds(15)
            var gone = false
            while !gone, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(250))
                gone = try await etcd.range("short").kvs.isEmpty
            }
            #expect(gone, "the key expired with its lease")
        }
    }

    @Test("watch from a past revision replays puts and deletes (with the previous value), then follows", arguments: StoreKind.allCases)
    func watchFromPastRevision(kind: StoreKind) async throws {
        try await Self.withStore(kind) { etcd, _ in
            let start = try await etcd.put("w/a", value: Array("1".utf8))
            try await etcd.delete("w/a")
            try await etcd.put("other", value: [0])
            let (events, live) = try await withTimeLimit(.seconds(30)) {
                var iterator = etcd.watch(prefix: "w/", startRevision: start).makeAsyncIterator()
                var events: [WatchEvent] = []
                while events.count < 2, let batch = try await iterator.next() { events += batch.events }
                try await etcd.put("w/b", value: Array("2".utf8))
                var live: [WatchEvent] = []
                while live.isEmpty, let batch = try await iterator.next() { live += batch.events }
                return (events, live)
            }
            #expect(events.map(\.key) == ["w/a", "w/a"])
            guard case .put(let put) = events[0], case .delete(let deleted) = events[1] else {
                Issue.record("expected put then delete, got \(events)")
                return
            }
            #expect(Self.text(put.value) == "1")
            #expect(Self.text(deleted.value) == "1", "prev_kv carries the deleted value")
            #expect(live.map(\.key) == ["w/b"])
        }
    }

    @Test("a watch from a compacted revision ends with .compacted, naming the compact revision", arguments: StoreKind.allCases)
    func watchCompacted(kind: StoreKind) async throws {
        try await Self.withStore(kind) { etcd, _ in
            let first = try await etcd.put("c/x", value: [1])
            let last = try await etcd.put("c/x", value: [2])
            try await etcd.compact(revision: last)
            do {
                try await withTimeLimit(.seconds(30)) { for try await _ in etcd.watch(prefix: "c/", startRevision: first) {} }
                Issue.record("the watch did not report the compaction")
            } catch KVStoreError.compacted(let revision) {
                #expect(revision == last)
            }
        }
    }

    @Test("several endpoints: an unreachable one is skipped", arguments: StoreKind.allCases)
    func failover(kind: StoreKind) async throws {
        try await Self.withStore(kind) { _, url in
            let dead = "http://127.0.0.1:\(try await freePort())"
            let etcd = try EtcdClient(endpoints: [dead, url], requestTimeout: .seconds(10))
            try await etcd.put("k", value: [1])
            #expect(try await etcd.range("k").kvs.count == 1)
            let nowhere = try EtcdClient(endpoints: [dead], requestTimeout: .seconds(1))
            await #expect(throws: KVStoreError.self) { try await nowhere.range("k") }
        }
    }

    @Test("a delete of nothing makes no revision; a txn's writes share one revision", arguments: StoreKind.allCases)
    func revisionAccounting(kind: StoreKind) async throws {
        try await Self.withStore(kind) { etcd, _ in
            let first = try await etcd.put("r/a", value: [1])
            #expect(try await etcd.delete("r/missing") == 0)
            #expect(try await etcd.put("r/b", value: [2]) == first + 1, "deleting a missing key did not consume a revision")
            #expect(try await etcd.txn([], success: [.put(key: "r/c", value: [3], lease: 0), .put(key: "r/d", value: [4], lease: 0)]))
            let both = try await etcd.range("r/", prefix: true)
            #expect(both.revision == first + 2)
            #expect(both.kvs.filter { ["r/c", "r/d"].contains($0.key) }.map(\.modRevision) == [first + 2, first + 2])
        }
    }

    @Test("a read at a compacted revision is refused; a put on an unknown lease is refused", arguments: StoreKind.allCases)
    func refusals(kind: StoreKind) async throws {
        try await Self.withStore(kind) { etcd, _ in
            let first = try await etcd.put("x", value: [1])
            let last = try await etcd.put("x", value: [2])
            try await etcd.compact(revision: last)
            await #expect(throws: KVStoreError.self) { try await etcd.range("x", revision: first) }
            #expect(try await etcd.range("x", revision: last).kvs.map(\.value) == [[2]], "the compact revision itself is still readable")
            await #expect(throws: KVStoreError.self) { try await etcd.put("y", value: [1], lease: 12345) }
            #expect(try await etcd.range("y").kvs.isEmpty)
        }
    }

    @Test("a watch sees the keys of an expired lease deleted", arguments: StoreKind.allCases)
    func watchLeaseExpiry(kind: StoreKind) async throws {
        try await Self.withStore(kind) { etcd, _ in
            let lease = try await etcd.grantLease(ttl: 2)
            let revision = try await etcd.put("e/a", value: [1], lease: lease)
            var iterator = etcd.watch(prefix: "e/", startRevision: revision + 1).makeAsyncIterator()
            var events: [WatchEvent] = []
            while events.isEmpty, let batch = try await iterator.next() { events += batch.events }
            guard case .delete(let deleted) = events.first else {
                Issue.record("expected a delete, got \(events)")
                return
            }
            #expect(deleted.key == "e/a")
        }
    }
}
