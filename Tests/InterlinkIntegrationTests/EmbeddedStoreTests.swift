import Foundation
@testable import InterlinkMesh
import Testing

/// What only the embedded store promises: it survives a restart, and peers cannot write to it.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct EmbeddedStoreTests {
    @Test("keys, revisions, history and leases survive a restart of the store")
    func persistsAcrossRestart() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("interlink-store-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let first = try await EmbeddedStoreServer(dataDir: dir)
        let before = try EtcdClient(endpoints: [first.clientURL], requestTimeout: KVStoreConformanceTests.requestTimeout)
        let lease = try await before.grantLease(ttl: 60)
        let old = try await before.put("p/a", value: Array("old".utf8))
        let last = try await before.put("p/a", value: Array("new".utf8), lease: lease)
        try await Task.sleep(for: .seconds(2.5))  // the lease has less than its TTL left now
        await first.stop(keepData: true)

        let restarted = ContinuousClock.now
        let second = try await EmbeddedStoreServer(dataDir: dir)
        let after = try EtcdClient(endpoints: [second.clientURL], requestTimeout: KVStoreConformanceTests.requestTimeout)
        let now = try await after.range("p/a")
        #expect(now.revision == last)
        #expect(now.kvs.first.map { String(decoding: $0.value, as: UTF8.self) } == "new")
        #expect(now.kvs.first?.lease == lease)
        #expect(try await after.range("p/a", revision: old).kvs.first?.value == Array("old".utf8), "history survives")
        let lived = try await after.timeToLive(lease: lease)
        // Counted from the restart, not from the grant 2.5 s earlier, however slow the machine is.
        let sinceRestart = Int((ContinuousClock.now - restarted).components.seconds) + 1
        #expect(lived.ttl >= 60 - Int64(sinceRestart) && lived.granted == 60,
                "after a restart the lease has its full TTL again, as in etcd: \(lived), \(sinceRestart) s since the restart")
        #expect(lived.keys == ["p/a"], "timetolive lists the lease's keys")
        #expect(try await after.keepAlive(lease: lease) == 60, "a keep-alive renews it to its TTL")
        #expect(try await after.put("p/b", value: [1]) == last + 1, "revisions continue where they were")
        await before.shutdown()
        await after.shutdown()
        await second.stop()
    }

    @Test("peers can read but not write: a write is refused with a message that says how to allow it")
    func readOnlyForPeers() async throws {
        let server = try await EmbeddedStoreServer(allowWrites: false, cluster: "east")
        let inProcess = try await server.store.put("cilium/k", value: [1], lease: 0)
        let peer = try EtcdClient(endpoints: [server.clientURL], requestTimeout: KVStoreConformanceTests.requestTimeout)
        #expect(try await peer.range("cilium/k").revision == inProcess, "reads are served")
        for attempt in [
            { _ = try await peer.put("cilium/k", value: [2]) },
            { _ = try await peer.delete("cilium/k") },
            { _ = try await peer.grantLease(ttl: 10) },
            { _ = try await peer.txn([], success: [.delete(key: "cilium/k")]) },
        ] as [() async throws -> Void] {
            do {
                try await attempt()
                Issue.record("a peer's write was accepted")
            } catch KVStoreError.server(_, let status, let message) {
                #expect(status == 7, "PERMISSION_DENIED")
                #expect(message.hasPrefix("etcdserver: permission denied") && message.contains("read-only for peers") && message.contains("east") && message.contains("--mesh-allow-writes"))
            }
        }
        #expect(try await peer.range("cilium/k").kvs.first?.value == [1], "nothing changed")
        await peer.shutdown()
        await server.stop()
    }

    @Test("peers see only cilium/ keys: the agent's own interlink/ keys, and ranges reaching past cilium/, are permission denied")
    func peersSeeOnlyMeshKeys() async throws {
        for allowWrites in [false, true] {
            let server = try await EmbeddedStoreServer(allowWrites: allowWrites, cluster: "east")
            try await server.store.put("interlink/live/east", value: Array("{}".utf8), lease: 0)
            let lease = try await server.store.grantLease(ttl: 60)
            try await server.store.put("interlink/leased", value: [1], lease: lease)
            try await server.store.put("cilium/cluster-config/east", value: Array("{}".utf8), lease: lease)
            let peer = try EtcdClient(endpoints: [server.clientURL], requestTimeout: KVStoreConformanceTests.requestTimeout)
            #expect(try await peer.range("cilium/", prefix: true).kvs.map(\.key) == ["cilium/cluster-config/east"])
            for attempt in [
                { _ = try await peer.range("interlink/live/east") },
                { _ = try await peer.range("interlink/", prefix: true) },
                { _ = try await peer.range("", prefix: true) },
                { try await withTimeLimit(.seconds(20)) { for try await _ in peer.watch(prefix: "interlink/", startRevision: 1) {} } },
            ] as [() async throws -> Void] {
                do {
                    try await attempt()
                    Issue.record("a peer read the agent's own keys (allowWrites: \(allowWrites))")
                } catch KVStoreError.server(_, let status, let message) {
                    // A read is refused with PERMISSION_DENIED; a watch is created cancelled, as etcd does.
                    #expect(status == 7 || status == 0, "\(status)")
                    #expect(message == "etcdserver: permission denied" || message == "watch cancelled: etcdserver: permission denied", "\(message)")
                }
            }
            let lived = try await peer.timeToLive(lease: lease)
            #expect(lived.keys == ["cilium/cluster-config/east"], "lease key lists leave out the agent's own keys")
            await peer.shutdown()
            await server.stop()
        }
    }

    @Test("a malformed request gets etcd's error and code; the store keeps serving")
    func badRequests() async throws {
        let server = try await EmbeddedStoreServer()
        let peer = try EtcdClient(endpoints: [server.clientURL], requestTimeout: KVStoreConformanceTests.requestTimeout)
        for attempt in [
            { _ = try await peer.range("") },
            { _ = try await peer.put("", value: [1]) },
        ] as [() async throws -> Void] {
            do {
                try await attempt()
                Issue.record("accepted an empty key")
            } catch KVStoreError.server(_, let status, let message) {
                #expect(status == 3, "INVALID_ARGUMENT")
                #expect(message == "etcdserver: key is not provided")
            }
        }
        do {
            _ = try await peer.revokeLease(424242)
            Issue.record("revoked a lease that does not exist")
        } catch KVStoreError.server(_, let status, let message) {
            #expect(status == 5 && message == "etcdserver: requested lease not found", "NOT_FOUND, etcd's text: \(status) \(message)")
        }
        try await peer.put("k", value: [1])
        #expect(try await peer.range("k").kvs.count == 1)
        await peer.shutdown()
        await server.stop()
    }
}
