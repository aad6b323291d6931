import Foundation
import InterlinkMesh
import Testing

/// The embedded store's watches stay bounded: history is replayed page by page, and a
/// watcher that does not read is cancelled with a reason instead of growing memory.
struct StoreWatchBoundTests {
    static func store(bufferBytes: Int = 64 << 20) throws -> (EmbeddedStore, URL) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("interlink-watch-\(UUID().uuidString)")
        return (try EmbeddedStore(directory: dir.path, watchBufferBytes: bufferBytes), dir)
    }

    @Test("a watch from revision 1 replays 2,500 writes in order, across history pages, then follows")
    func replaysInPages() async throws {
        let (store, dir) = try Self.store()
        defer { try? FileManager.default.removeItem(at: dir) }
        try store.txn(compare: [], success: (0..<2500).map { .put(key: Array("cilium/k\($0)".utf8), value: [1], lease: 0, prevKV: false) }, failure: [])
        for index in 0..<3 { try store.put(key: Array("cilium/late\(index)".utf8), value: [2]) }
        let watch = try store.watch(.prefix("cilium/"), startRevision: 1, prevKV: false)
        try store.put(key: Array("cilium/live".utf8), value: [3])
        var keys: [String] = []
        var revisions: [Int64] = []
        for await batch in watch {
            keys += batch.events.map(\.kv.key)
            revisions.append(batch.revision)
            if keys.last == "cilium/live" { break }
        }
        #expect(keys.count == 2504)
        #expect(keys.prefix(2500) == ArraySlice((0..<2500).map { "cilium/k\($0)" }))
        #expect(revisions == [1, 2, 3, 4, 5], "one batch per revision: the transaction's 2,500 writes share one")
        store.close()
    }

    @Test("a watcher that does not read is cancelled with a reason once its unread events pass the bound; the store goes on")
    func slowWatcherCancelled() async throws {
        let (store, dir) = try Self.store(bufferBytes: 1 << 20)
        defer { try? FileManager.default.removeItem(at: dir) }
        let watch = try store.watch(.prefix("cilium/"), startRevision: 0, prevKV: true)
        let value = [UInt8](repeating: 7, count: 100_000)
        for index in 0..<30 { try store.put(key: Array("cilium/big\(index)".utf8), value: value) }
        #expect(watch.cancelReason?.contains("fell behind") == true)
        var received = 0
        for await batch in watch { received += batch.events.count }
        #expect(received > 0 && received < 30, "what was queued before the bound is still delivered: \(received)")
        #expect(try store.range(.prefix("cilium/")).count == 30, "writes go on")
        store.close()
    }

    @Test("a watch whose history alone passes the bound is cancelled at once")
    func hugeHistoryCancelled() async throws {
        let (store, dir) = try Self.store(bufferBytes: 1 << 20)
        defer { try? FileManager.default.removeItem(at: dir) }
        let value = [UInt8](repeating: 7, count: 100_000)
        for index in 0..<30 { try store.put(key: Array("cilium/big\(index)".utf8), value: value) }
        let watch = try store.watch(.prefix("cilium/"), startRevision: 1, prevKV: false)
        #expect(watch.cancelReason != nil)
        var batches = 0
        for await _ in watch { batches += 1 }
        #expect(batches < 30)
        store.close()
    }

    @Test("the store's own loop compacts on its interval, to the revisions it keeps")
    func runCompacts() async throws {
        let (store, dir) = try Self.store()
        defer { try? FileManager.default.removeItem(at: dir) }
        for index in 0..<30 { try store.put(key: Array("cilium/k\(index)".utf8), value: Array("v".utf8)) }
        let running = Task { await store.run(interval: .milliseconds(10), compactionInterval: .milliseconds(20), retainedRevisions: 5) }
        // Generous: only that the loop runs at all (a loaded two-core machine can hold a timer for seconds).
        #expect(await waitUntil(.seconds(60)) { store.compactRevision >= 25 }, "compacted to \(store.compactRevision)")
        running.cancel()
        await running.value
        store.close()
    }

    @Test("history is compacted by size too: 3 MB of values over 30 revisions keep at most 1 MiB of history")
    func historyBoundedBySize() async throws {
        let (store, dir) = try Self.store()
        defer { try? FileManager.default.removeItem(at: dir) }
        let value = [UInt8](repeating: 7, count: 100_000)
        for index in 0..<30 { try store.put(key: Array("cilium/big\(index % 3)".utf8), value: value) }
        // The auto-compaction step `run` takes every compactionInterval, taken here directly:
        // with the whole suite starting at once on two cores, a 40 ms timer could wait > 10 s.
        store.compactHistory(retainedRevisions: 10_000, retainedHistoryBytes: 1 << 20)
        // At most 10 of the 100 kB values fit in 1 MiB: the history kept starts at revision 21 or later.
        #expect(store.compactRevision >= 21, "compacted to \(store.compactRevision)")
        #expect(throws: StoreError.self) { _ = try store.watch(.prefix("cilium/"), startRevision: 1, prevKV: false) }
        #expect(try store.range(.prefix("cilium/")).count == 3, "the current keys stay")
        store.close()
    }
}
