import NIOPosix

/// What the exporter needs of its own cluster's kvstore: a real etcd (`EtcdClient`) or the
/// agent's embedded store (`EmbeddedStore`, used in-process).
public protocol KVStore: Sendable {
    /// Reads one key, or every key starting with `key` when `prefix` is true.
    func range(_ key: String, prefix: Bool, revision: Int64) async throws -> RangeResult
    /// Writes a key (attached to `lease` when non-zero); returns the new store revision.
    @discardableResult
    func put(_ key: String, value: [UInt8], lease: Int64) async throws -> Int64
    /// Deletes a key, or every key starting with it; returns how many were deleted.
    @discardableResult
    func delete(_ key: String, prefix: Bool) async throws -> Int
    /// Grants a lease of `ttl` seconds; returns its ID.
    func grantLease(ttl: Int) async throws -> Int64
    /// Renews a lease; returns its remaining TTL in seconds (0 or less: it has expired).
    func keepAlive(lease: Int64) async throws -> Int64
    /// Revokes a lease: its keys are deleted.
    func revokeLease(_ lease: Int64) async throws
}

extension EtcdClient: KVStore {}

/// What following a remote cluster needs of its store: reads and a watch. `EtcdClient` is the
/// real one; component tests give the watcher a store they control.
public protocol RemoteStore: Sendable {
    func range(_ key: String, prefix: Bool, revision: Int64) async throws -> RangeResult
    func watch(prefix: String, startRevision: Int64) -> AsyncThrowingStream<(revision: Int64, events: [WatchEvent]), Error>
}

extension EtcdClient: RemoteStore {}

/// In-process use of the embedded store (the agent's exporter). SQLite blocks while a write
/// waits for fsync, so each call runs on NIO's blocking-I/O thread pool, not on the
/// cooperative pool.
extension EmbeddedStore: KVStore {
    public func range(_ key: String, prefix: Bool, revision: Int64) async throws -> RangeResult {
        let range = prefix ? KeyRange.prefix(key) : KeyRange(key: Array(key.utf8))
        let result = try await NIOThreadPool.singleton.runIfActive { try self.range(range, revision: revision) }
        return RangeResult(kvs: result.kvs, revision: result.revision)
    }

    @discardableResult
    public func put(_ key: String, value: [UInt8], lease: Int64) async throws -> Int64 {
        try await NIOThreadPool.singleton.runIfActive { try self.put(key: Array(key.utf8), value: value, lease: lease).revision }
    }

    @discardableResult
    public func delete(_ key: String, prefix: Bool) async throws -> Int {
        try await NIOThreadPool.singleton.runIfActive {
            try self.deleteRange(prefix ? KeyRange.prefix(key) : KeyRange(key: Array(key.utf8))).deleted.count
        }
    }

    public func grantLease(ttl: Int) async throws -> Int64 {
        try await NIOThreadPool.singleton.runIfActive { try self.grantLease(ttl: Int64(ttl), id: 0) }
    }

    public func keepAlive(lease: Int64) async throws -> Int64 {
        renewLease(lease)
    }

    public func revokeLease(_ lease: Int64) async throws {
        try await NIOThreadPool.singleton.runIfActive { try self.revoke(lease: lease) }
    }
}
