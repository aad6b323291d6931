import Foundation
import GRDB
import NIOConcurrencyHelpers
import NIOCore

/// The agent's own kvstore: the subset of etcd v3 that Cluster Mesh uses (keys with revisions,
/// ranges, transactions, leases, watches from a past revision, compaction), persisted in SQLite.
///
/// Durability: every write is one SQLite transaction in WAL mode with `synchronous=FULL`, so a
/// write is on disk before it is acknowledged and survives a crash of the process or the host.
/// Revisions: each write that changes something makes one new store revision (a transaction
/// makes one for all its writes), as etcd does. History is kept so that a watch can start from
/// a past revision, until `compact(revision:)` drops it. Leases: their TTL is persisted; after a
/// restart each lease gets its full TTL again (etcd does the same when a leader starts).
///
/// Threading: safe from any thread. Writes are serialised under one lock, so watchers see
/// events in revision order; reads go to SQLite directly.
public final class EmbeddedStore: Sendable {
    let database: DatabaseQueue
    let state: NIOLockedValueBox<State>
    public let path: String
    /// The most bytes of events one watch may have queued and unread (`StoreWatch`).
    public let watchBufferBytes: Int

    struct State {
        var revision: Int64
        var compactRevision: Int64
        var leases: [Int64: LeaseState]
        var watchers: [Int: Watcher] = [:]
        var nextWatcherID = 0
        var closed = false
    }

    struct LeaseState {
        var ttl: Int64
        var expiresAt: NIODeadline
    }

    struct Watcher {
        var range: KeyRange
        var prevKV: Bool
        var progressNotify: Bool
        var watch: StoreWatch
    }

    /// Opens (or creates) the store in `directory`, as `store.sqlite`.
    public init(directory: String, watchBufferBytes: Int = 64 << 20) throws {
        self.watchBufferBytes = watchBufferBytes
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw StoreError.invalid("cannot create the data directory \(directory): \(error.localizedDescription)")
        }
        path = (directory as NSString).appendingPathComponent("store.sqlite")
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        database = try DatabaseQueue(path: path, configuration: configuration)
        try database.write { db in try Self.createSchema(db) }
        let (revision, compactRevision, leaseRows) = try database.read { db in
            (try Self.meta(db, "revision"), try Self.meta(db, "compact_revision"),
             try Row.fetchAll(db, sql: "SELECT id, ttl FROM lease"))
        }
        let now = NIODeadline.now()
        var leases: [Int64: LeaseState] = [:]
        for row in leaseRows {
            let ttl: Int64 = row["ttl"]
            leases[row["id"]] = LeaseState(ttl: ttl, expiresAt: now + .seconds(ttl))
        }
        state = NIOLockedValueBox(State(revision: revision, compactRevision: compactRevision, leases: leases))
    }

    private static func createSchema(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE IF NOT EXISTS kv (
                key BLOB PRIMARY KEY, value BLOB NOT NULL, create_revision INTEGER NOT NULL,
                mod_revision INTEGER NOT NULL, version INTEGER NOT NULL, lease INTEGER NOT NULL);
            CREATE INDEX IF NOT EXISTS kv_lease ON kv(lease) WHERE lease != 0;
            CREATE TABLE IF NOT EXISTS history (
                id INTEGER PRIMARY KEY AUTOINCREMENT, revision INTEGER NOT NULL, deleted INTEGER NOT NULL,
                key BLOB NOT NULL, value BLOB NOT NULL, create_revision INTEGER NOT NULL,
                mod_revision INTEGER NOT NULL, version INTEGER NOT NULL, lease INTEGER NOT NULL);
            CREATE INDEX IF NOT EXISTS history_revision ON history(revision);
            CREATE INDEX IF NOT EXISTS history_key ON history(key, revision);
            CREATE TABLE IF NOT EXISTS lease (id INTEGER PRIMARY KEY, ttl INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
            """)
    }

    static func meta(_ db: Database, _ name: String) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT value FROM meta WHERE name = ?", arguments: [name]) ?? 0
    }

    static func setMeta(_ db: Database, _ name: String, _ value: Int64) throws {
        try db.execute(sql: "INSERT INTO meta(name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value", arguments: [name, value])
    }

    /// The current store revision.
    public var revision: Int64 { state.withLockedValue { $0.revision } }

    /// The revision history was compacted to (0: never).
    public var compactRevision: Int64 { state.withLockedValue { $0.compactRevision } }

    /// Ends every watch (their streams finish) and refuses further requests.
    public func close() {
        let watchers = state.withLockedValue { state in
            state.closed = true
            defer { state.watchers = [:] }
            return Array(state.watchers.values)
        }
        for watcher in watchers { watcher.watch.finish() }
    }

    // MARK: Reads

    /// Reads a key range at `revision` (0: the current one), sorted by key, at most `limit` keys
    /// (0: no limit).
    public func range(_ range: KeyRange, revision: Int64 = 0, limit: Int = 0) throws -> StoreRange {
        let (current, compacted) = state.withLockedValue { ($0.revision, $0.compactRevision) }
        if revision > current { throw StoreError.futureRevision(requested: revision, current: current) }
        if revision > 0, revision < compacted { throw StoreError.compacted(compactRevision: compacted) }
        return try database.read { db in
            try Self.readRange(db, range, atRevision: revision == 0 || revision == current ? nil : revision, limit: limit, current: current)
        }
    }

    static func readRange(_ db: Database, _ range: KeyRange, atRevision: Int64?, limit: Int, current: Int64) throws -> StoreRange {
        let (condition, arguments) = rangeCondition(range)
        let rows: [Row]
        if let atRevision {
            rows = try Row.fetchAll(db, sql: """
                SELECT * FROM history WHERE id IN (
                    SELECT MAX(id) FROM history WHERE revision <= ? AND \(condition) GROUP BY key)
                AND deleted = 0 ORDER BY key
                """, arguments: [atRevision] + arguments)
        } else {
            rows = try Row.fetchAll(db, sql: "SELECT * FROM kv WHERE \(condition) ORDER BY key", arguments: arguments)
        }
        let all = rows.map(keyValue)
        let kept = limit > 0 ? Array(all.prefix(limit)) : all
        return StoreRange(kvs: kept, count: all.count, more: kept.count < all.count, revision: atRevision ?? current)
    }

    static func rangeCondition(_ range: KeyRange) -> (String, StatementArguments) {
        if range.end.isEmpty { return ("key = ?", [Data(range.key)]) }
        if range.end == [0] { return ("key >= ?", [Data(range.key)]) }
        return ("key >= ? AND key < ?", [Data(range.key), Data(range.end)])
    }

    static func keyValue(_ row: Row) -> KeyValue {
        let key: Data = row["key"]
        let value: Data = row["value"]
        return KeyValue(
            key: String(decoding: key, as: UTF8.self), value: Array(value), createRevision: row["create_revision"],
            modRevision: row["mod_revision"], version: row["version"], lease: row["lease"])
    }
}

extension EmbeddedStore {
    /// The size of the store's files on disk (database and write-ahead log).
    public var databaseBytes: Int64 {
        [path, path + "-wal"].reduce(0) { total, file in
            total + ((try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int64) ?? 0)
        }
    }
}
