import Foundation
import GRDB

extension EmbeddedStore {
    /// Rows of history read per page when a watch replays the past.
    static let historyPage = 1000

    /// Watches a key range from `startRevision` (0: from the next write): first the history
    /// since then, read in pages, then every new write, one batch per revision. Throws
    /// `StoreError.compacted` when `startRevision` is older than the compacted history. The
    /// watch ends when the consumer stops, the store closes, or its buffer bound is passed
    /// (`StoreWatch.cancelReason`).
    public func watch(_ range: KeyRange, startRevision: Int64, prevKV: Bool, progressNotify: Bool = false) throws -> StoreWatch {
        let watch = StoreWatch(bufferBytes: watchBufferBytes)
        try state.withLockedValue { state in
            guard !state.closed else { throw StoreError.closed }
            if startRevision > 0, startRevision < state.compactRevision {
                throw StoreError.compacted(compactRevision: state.compactRevision)
            }
            // Under the lock no write can land between the history read and the registration.
            if startRevision > 0, startRevision <= state.revision, !(try replay(range, from: startRevision, prevKV: prevKV, into: watch)) {
                return  // cancelled: the history alone passes the bound
            }
            state.watchers[state.nextWatcherID] = Watcher(range: range, prevKV: prevKV, progressNotify: progressNotify, watch: watch)
            state.nextWatcherID += 1
        }
        return watch
    }

    /// Offers the history of `range` since `revision` to `watch`, page by page; false when the
    /// watch was cancelled for passing its bound.
    private func replay(_ range: KeyRange, from revision: Int64, prevKV: Bool, into watch: StoreWatch) throws -> Bool {
        let (condition, arguments) = Self.rangeCondition(range)
        var afterID: Int64 = 0
        var pending: StoreWatchBatch?
        while true {
            let rows = try database.read { db in
                try Row.fetchAll(
                    db, sql: "SELECT * FROM history WHERE revision >= ? AND id > ? AND \(condition) ORDER BY id LIMIT \(Self.historyPage)",
                    arguments: [revision, afterID] + arguments)
            }
            for row in rows {
                afterID = row["id"]
                let event = Self.historyEvent(row, prevKV: prevKV)
                let eventRevision: Int64 = row["revision"]
                if pending?.revision == eventRevision {
                    pending?.events.append(event)
                } else {
                    if let done = pending, !watch.offer(done) { return false }
                    pending = StoreWatchBatch(revision: eventRevision, events: [event])
                }
            }
            if rows.count < Self.historyPage { break }
        }
        if let done = pending, !watch.offer(done) { return false }
        return true
    }

    private static func historyEvent(_ row: Row, prevKV: Bool) -> StoreEvent {
        let revision: Int64 = row["revision"]
        let deleted: Bool = row["deleted"]
        let kv = keyValue(row)
        guard deleted else { return StoreEvent(kind: .put, kv: kv, prev: nil) }
        return StoreEvent(kind: .delete, kv: KeyValue(key: kv.key, value: [], modRevision: revision), prev: prevKV ? kv : nil)
    }

    /// Sends a progress notice (the current revision, no events) to every watcher that asked
    /// for them, and forgets the watches that are over; a watcher whose client has gone finds
    /// out when the notice cannot be written.
    public func notifyProgress() {
        state.withLockedValue { state in
            for (id, watcher) in state.watchers {
                let over = watcher.progressNotify ? !watcher.watch.offer(StoreWatchBatch(revision: state.revision, events: [])) : watcher.watch.isOver
                if over { state.watchers[id] = nil }
            }
        }
    }

    /// Offers a committed batch to every watcher of its keys; drops those that are over
    /// (consumer gone, or cancelled for passing the bound).
    static func deliver(_ batch: StoreWatchBatch, to watchers: inout [Int: Watcher]) {
        for (id, watcher) in watchers {
            let events = batch.events.filter { watcher.range.contains(Array($0.kv.key.utf8)) }
            guard !events.isEmpty else { continue }
            let delivered = StoreWatchBatch(
                revision: batch.revision, events: watcher.prevKV ? events : events.map { StoreEvent(kind: $0.kind, kv: $0.kv, prev: nil) })
            if !watcher.watch.offer(delivered) { watchers[id] = nil }
        }
    }
}
