import Foundation
import GRDB

extension EmbeddedStore {
    /// Watches a key range from `startRevision` (0: from the next write): first the history
    /// since then, then every new write, one batch per revision. Throws `StoreError.compacted`
    /// when `startRevision` is older than the compacted history. The stream ends when the
    /// consumer stops or the store closes.
    public func watch(_ range: KeyRange, startRevision: Int64, prevKV: Bool, progressNotify: Bool = false) throws -> AsyncStream<StoreWatchBatch> {
        let (stream, continuation) = AsyncStream.makeStream(of: StoreWatchBatch.self, bufferingPolicy: .unbounded)
        let id = try state.withLockedValue { state -> Int in
            guard !state.closed else { throw StoreError.closed }
            if startRevision > 0, startRevision < state.compactRevision {
                throw StoreError.compacted(compactRevision: state.compactRevision)
            }
            // Under the lock no write can land between the history read and the registration.
            if startRevision > 0, startRevision <= state.revision {
                for batch in try history(range, from: startRevision, prevKV: prevKV) { continuation.yield(batch) }
            }
            let id = state.nextWatcherID
            state.nextWatcherID += 1
            state.watchers[id] = Watcher(range: range, prevKV: prevKV, progressNotify: progressNotify, continuation: continuation)
            return id
        }
        continuation.onTermination = { [weak self] _ in
            self?.state.withLockedValue { _ = $0.watchers.removeValue(forKey: id) }
        }
        return stream
    }

    private func history(_ range: KeyRange, from revision: Int64, prevKV: Bool) throws -> [StoreWatchBatch] {
        let (condition, arguments) = Self.rangeCondition(range)
        let rows = try database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM history WHERE revision >= ? AND \(condition) ORDER BY id", arguments: [revision] + arguments)
        }
        var batches: [StoreWatchBatch] = []
        for row in rows {
            let revision: Int64 = row["revision"]
            let deleted: Bool = row["deleted"]
            var kv = Self.keyValue(row)
            var event = StoreEvent(kind: .put, kv: kv, prev: nil)
            if deleted {
                let prev = kv
                kv = KeyValue(key: kv.key, value: [], modRevision: revision)
                event = StoreEvent(kind: .delete, kv: kv, prev: prevKV ? prev : nil)
            }
            if batches.last?.revision == revision {
                batches[batches.count - 1].events.append(event)
            } else {
                batches.append(StoreWatchBatch(revision: revision, events: [event]))
            }
        }
        return batches
    }

    /// Sends a progress notice (the current revision, no events) to every watcher that asked
    /// for them; a watcher whose client has gone finds out when the notice cannot be written.
    public func notifyProgress() {
        state.withLockedValue { state in
            for watcher in state.watchers.values where watcher.progressNotify {
                watcher.continuation.yield(StoreWatchBatch(revision: state.revision, events: []))
            }
        }
    }

    static func deliver(_ batch: StoreWatchBatch, to watchers: some Sequence<Watcher>) {
        for watcher in watchers {
            let events = batch.events.filter { watcher.range.contains(Array($0.kv.key.utf8)) }
            guard !events.isEmpty else { continue }
            watcher.continuation.yield(StoreWatchBatch(
                revision: batch.revision, events: watcher.prevKV ? events : events.map { StoreEvent(kind: $0.kind, kv: $0.kv, prev: nil) }))
        }
    }
}
