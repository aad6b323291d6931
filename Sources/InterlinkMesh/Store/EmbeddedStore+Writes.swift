import Foundation
import GRDB
import NIOCore

extension EmbeddedStore {
    /// The writes of one store transaction: they all get `revision`; their events go to the
    /// watchers once SQLite has committed them.
    struct WriteContext {
        let revision: Int64
        var leases: [Int64: LeaseState]
        var events: [StoreEvent] = []

        mutating func put(_ db: Database, key: [UInt8], value: [UInt8], lease: Int64) throws -> KeyValue? {
            if lease != 0, leases[lease] == nil { throw StoreError.leaseNotFound(lease) }
            let previous = try Row.fetchOne(db, sql: "SELECT * FROM kv WHERE key = ?", arguments: [Data(key)]).map(EmbeddedStore.keyValue)
            let next = KeyValue(
                key: String(decoding: key, as: UTF8.self), value: value, createRevision: previous?.createRevision ?? revision,
                modRevision: revision, version: (previous?.version ?? 0) + 1, lease: lease)
            try db.execute(sql: """
                INSERT INTO kv(key, value, create_revision, mod_revision, version, lease) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT(key) DO UPDATE SET value = excluded.value, mod_revision = excluded.mod_revision,
                    version = excluded.version, lease = excluded.lease
                """, arguments: [Data(key), Data(value), next.createRevision, revision, next.version, lease])
            try record(db, key: key, kv: next, deleted: false)
            events.append(StoreEvent(kind: .put, kv: next, prev: previous))
            return previous
        }

        mutating func deleteRange(_ db: Database, _ range: KeyRange) throws -> [KeyValue] {
            let (condition, arguments) = EmbeddedStore.rangeCondition(range)
            let doomed = try Row.fetchAll(db, sql: "SELECT * FROM kv WHERE \(condition) ORDER BY key", arguments: arguments).map(EmbeddedStore.keyValue)
            guard !doomed.isEmpty else { return [] }
            try db.execute(sql: "DELETE FROM kv WHERE \(condition)", arguments: arguments)
            for previous in doomed {
                // The history row of a delete keeps the deleted value, for a watch's prev_kv.
                let tombstone = KeyValue(key: previous.key, value: previous.value, modRevision: revision)
                try record(db, key: Array(previous.key.utf8), kv: tombstone, deleted: true)
                events.append(StoreEvent(kind: .delete, kv: KeyValue(key: previous.key, value: [], modRevision: revision), prev: previous))
            }
            return doomed
        }

        private func record(_ db: Database, key: [UInt8], kv: KeyValue, deleted: Bool) throws {
            try db.execute(sql: """
                INSERT INTO history(revision, deleted, key, value, create_revision, mod_revision, version, lease)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [revision, deleted ? 1 : 0, Data(key), Data(kv.value), kv.createRevision, kv.modRevision, kv.version, kv.lease])
        }
    }

    /// Runs `body` as one SQLite transaction at the next revision; publishes its events to the
    /// watchers after the commit. A body that changes nothing makes no revision.
    func write<Result>(_ body: (Database, inout WriteContext) throws -> Result) throws -> (Result, revision: Int64) {
        try state.withLockedValue { state in
            guard !state.closed else { throw StoreError.closed }
            guard state.revision < Int64.max else { throw StoreError.invalid("mvcc: the store's revision has reached its maximum; restore it from a backup") }
            var context = WriteContext(revision: state.revision + 1, leases: state.leases)
            let result = try database.write { db in
                let result = try body(db, &context)
                if !context.events.isEmpty { try Self.setMeta(db, "revision", context.revision) }
                return result
            }
            state.leases = context.leases
            guard !context.events.isEmpty else { return (result, state.revision) }
            state.revision = context.revision
            // Delivered under the lock, so every watcher sees revisions in order.
            Self.deliver(StoreWatchBatch(revision: context.revision, events: context.events), to: &state.watchers)
            return (result, context.revision)
        }
    }

    // MARK: KV writes

    /// Writes a key; returns the new revision and the previous value.
    @discardableResult
    public func put(key: [UInt8], value: [UInt8], lease: Int64 = 0) throws -> (revision: Int64, prev: KeyValue?) {
        let (prev, revision) = try write { db, context in try context.put(db, key: key, value: value, lease: lease) }
        return (revision, prev)
    }

    /// Deletes a key range; returns the revision and the deleted keys.
    @discardableResult
    public func deleteRange(_ range: KeyRange) throws -> (revision: Int64, deleted: [KeyValue]) {
        let (deleted, revision) = try write { db, context in try context.deleteRange(db, range) }
        return (revision, deleted)
    }

    /// Applies `success` if every comparison holds, else `failure`, atomically at one revision.
    public func txn(compare: [StoreCompare], success: [StoreOperation], failure: [StoreOperation])
        throws -> (succeeded: Bool, results: [StoreOperationResult], revision: Int64)
    {
        let ((succeeded, results), revision) = try write { db, context -> (Bool, [StoreOperationResult]) in
            let succeeded = try compare.allSatisfy { try Self.holds($0, db) }
            var results: [StoreOperationResult] = []
            for operation in succeeded ? success : failure {
                switch operation {
                case .put(let key, let value, let lease, let prevKV):
                    let prev = try context.put(db, key: key, value: value, lease: lease)
                    results.append(.put(revision: context.revision, prev: prevKV ? prev : nil))
                case .deleteRange(let range, let prevKV):
                    let deleted = try context.deleteRange(db, range)
                    results.append(.deleteRange(revision: context.revision, deleted: prevKV ? deleted : deleted.map { KeyValue(key: $0.key, value: []) }))
                case .range(let range):
                    let current = context.events.isEmpty ? context.revision - 1 : context.revision
                    results.append(.range(try Self.readRange(db, range, atRevision: nil, limit: 0, current: current)))
                }
            }
            return (succeeded, results)
        }
        return (succeeded, results, revision)
    }

    private static func holds(_ compare: StoreCompare, _ db: Database) throws -> Bool {
        let row = try Row.fetchOne(db, sql: "SELECT * FROM kv WHERE key = ?", arguments: [Data(compare.key)]).map(keyValue)
        let order: Int
        switch compare.target {
        case .version(let value): order = ordering(row?.version ?? 0, value)
        case .createRevision(let value): order = ordering(row?.createRevision ?? 0, value)
        case .modRevision(let value): order = ordering(row?.modRevision ?? 0, value)
        case .lease(let value): order = ordering(row?.lease ?? 0, value)
        case .value(let value):
            guard let current = row?.value else { return false }  // etcd: a value compare on a missing key fails
            order = current == value ? 0 : (current.lexicographicallyPrecedes(value) ? -1 : 1)
        }
        switch compare.result {
        case .equal: return order == 0
        case .notEqual: return order != 0
        case .greater: return order > 0
        case .less: return order < 0
        }
    }

    private static func ordering(_ lhs: Int64, _ rhs: Int64) -> Int { lhs < rhs ? -1 : (lhs > rhs ? 1 : 0) }

    /// Drops history before `revision`, keeping for each key its value at `revision`; watches
    /// and reads from older revisions are then refused as compacted.
    public func compact(revision: Int64) throws {
        try state.withLockedValue { state in
            guard !state.closed else { throw StoreError.closed }
            if revision > state.revision { throw StoreError.futureRevision(requested: revision, current: state.revision) }
            if revision <= state.compactRevision { throw StoreError.compacted(compactRevision: state.compactRevision) }
            try database.write { db in
                try db.execute(sql: """
                    DELETE FROM history WHERE revision <= ? AND id NOT IN (
                        SELECT MAX(id) FROM history WHERE revision <= ? GROUP BY key)
                    """, arguments: [revision, revision])
                try db.execute(sql: "DELETE FROM history WHERE revision < ? AND deleted = 1", arguments: [revision])
                try Self.setMeta(db, "compact_revision", revision)
            }
            state.compactRevision = revision
        }
    }

    /// The oldest revision from which the history's values take at most `historyBytes`
    /// (compacting to it bounds the history by size as well as by count).
    func revisionKeeping(historyBytes: Int) throws -> Int64 {
        try database.read { db in
            let rows = try Row.fetchCursor(db, sql: "SELECT revision, length(value) AS size FROM history ORDER BY revision DESC")
            var total = 0
            while let row = try rows.next() {
                total += row["size"] as Int
                if total > historyBytes { return (row["revision"] as Int64) + 1 }
            }
            return 0
        }
    }

    // MARK: Leases

    /// etcd's `MaxLeaseTTL`: longer leases are refused (and would overflow a deadline).
    public static let maximumLeaseTTL: Int64 = 9_000_000_000
    /// etcd's minimum lease TTL: shorter grants get it instead.
    public static let minimumLeaseTTL: Int64 = 1

    /// The IDs of every lease, in order.
    public var leaseIDs: [Int64] { state.withLockedValue { $0.leases.keys.sorted() } }

    /// Grants a lease of `ttl` seconds (`id` 0: the store picks one); returns its ID.
    public func grantLease(ttl: Int64, id requested: Int64 = 0) throws -> Int64 {
        guard ttl > 0 else { throw StoreError.invalid("lease TTL must be at least 1 second, got \(ttl)") }
        guard ttl <= Self.maximumLeaseTTL else { throw StoreError.invalid("too large lease TTL") }
        guard requested >= 0 else { throw StoreError.invalid("lease ID must be positive, got \(requested)") }
        return try state.withLockedValue { state in
            guard !state.closed else { throw StoreError.closed }
            var id = requested
            if id == 0 {
                repeat { id = Int64.random(in: 1...Int64.max) } while state.leases[id] != nil
            } else if state.leases[id] != nil {
                throw StoreError.invalid("lease already exists")
            }
            try database.write { db in
                try db.execute(sql: "INSERT INTO lease(id, ttl) VALUES (?, ?)", arguments: [id, ttl])
            }
            state.leases[id] = LeaseState(ttl: ttl, expiresAt: .now() + .seconds(ttl))
            return id
        }
    }

    /// Renews a lease to its full TTL; returns the TTL, or 0 when the lease does not exist.
    public func renewLease(_ lease: Int64) -> Int64 {
        state.withLockedValue { state in
            guard var current = state.leases[lease] else { return 0 }
            current.expiresAt = .now() + .seconds(current.ttl)
            state.leases[lease] = current
            return current.ttl
        }
    }

    /// The seconds a lease has left (-1: no such lease), its granted TTL, and its keys.
    public func timeToLive(lease: Int64) throws -> (ttl: Int64, granted: Int64, keys: [String]) {
        guard let current = state.withLockedValue({ $0.leases[lease] }) else { return (-1, 0, []) }
        let keys = try database.read { db in
            try Data.fetchAll(db, sql: "SELECT key FROM kv WHERE lease = ? ORDER BY key", arguments: [lease])
        }
        let left = max(0, (current.expiresAt - .now()).nanoseconds / 1_000_000_000)
        return (left, current.ttl, keys.map { String(decoding: $0, as: UTF8.self) })
    }

    /// Revokes a lease: its keys are deleted in one revision.
    public func revoke(lease: Int64) throws {
        try revokeLease(lease, expiredBy: nil)
    }

    /// Revokes a lease, only if it is still expired at `deadline` when one is given (a
    /// keep-alive may have come in between).
    private func revokeLease(_ lease: Int64, expiredBy deadline: NIODeadline?) throws {
        _ = try write { db, context in
            guard let current = context.leases[lease] else { throw StoreError.leaseNotFound(lease) }
            if let deadline, current.expiresAt > deadline { return }
            let keys = try Data.fetchAll(db, sql: "SELECT key FROM kv WHERE lease = ? ORDER BY key", arguments: [lease])
            for key in keys { _ = try context.deleteRange(db, KeyRange(key: Array(key))) }
            try db.execute(sql: "DELETE FROM lease WHERE id = ?", arguments: [lease])
            context.leases[lease] = nil
        }
    }

    /// Revokes every lease whose time is up; returns how many. Call it periodically (`run`).
    @discardableResult
    public func expireLeases(now: NIODeadline = .now()) -> Int {
        let expired = state.withLockedValue { state in state.leases.filter { $0.value.expiresAt <= now }.map(\.key) }
        var count = 0
        for lease in expired where (try? revokeLease(lease, expiredBy: now)) != nil { count += 1 }
        return count
    }

    /// Until cancelled: expires leases every `interval`, sends watch progress notices every
    /// `progressInterval`, and every `compactionInterval` compacts history to the last
    /// `retainedRevisions` revisions (etcd's `--auto-compaction-mode=revision`), or further
    /// if the values kept in history would pass `retainedHistoryBytes`.
    public func run(
        interval: Duration = .milliseconds(250), progressInterval: Duration = .seconds(5),
        compactionInterval: Duration = .seconds(300), retainedRevisions: Int64 = 10_000, retainedHistoryBytes: Int = 256 << 20
    ) async {
        var sinceProgress = Duration.zero
        var sinceCompaction = Duration.zero
        while (try? await Task.sleep(for: interval)) != nil {
            expireLeases()
            sinceProgress += interval
            sinceCompaction += interval
            if sinceProgress >= progressInterval {
                notifyProgress()
                sinceProgress = .zero
            }
            if sinceCompaction >= compactionInterval {
                sinceCompaction = .zero
                compactHistory(retainedRevisions: retainedRevisions, retainedHistoryBytes: retainedHistoryBytes)
            }
        }
    }

    /// One auto-compaction step of `run`: compacts to the last `retainedRevisions` revisions,
    /// or further if the values kept in history would pass `retainedHistoryBytes`.
    public func compactHistory(retainedRevisions: Int64, retainedHistoryBytes: Int) {
        let target = max(revision - retainedRevisions, (try? revisionKeeping(historyBytes: retainedHistoryBytes)) ?? 0)
        if target > compactRevision { try? compact(revision: target) }
    }
}
