/// One key of a kvstore with its etcd metadata.
public struct KeyValue: Hashable, Sendable {
    public var key: String
    public var value: [UInt8]
    public var createRevision: Int64
    public var modRevision: Int64
    public var version: Int64
    /// 0 when the key has no lease.
    public var lease: Int64

    public init(key: String, value: [UInt8], createRevision: Int64 = 0, modRevision: Int64 = 0, version: Int64 = 0, lease: Int64 = 0) {
        self.key = key
        self.value = value
        self.createRevision = createRevision
        self.modRevision = modRevision
        self.version = version
        self.lease = lease
    }
}

/// The keys a range read found, and the store revision it was read at.
public struct RangeResult: Hashable, Sendable {
    public var kvs: [KeyValue]
    public var revision: Int64

    public init(kvs: [KeyValue], revision: Int64) {
        self.kvs = kvs
        self.revision = revision
    }
}

/// A change seen by a watch.
public enum WatchEvent: Hashable, Sendable {
    case put(KeyValue)
    /// The deleted key; `value` holds the previous value when the watch asked for it.
    case delete(KeyValue)

    public var key: String {
        switch self {
        case .put(let kv), .delete(let kv): kv.key
        }
    }
}

/// One comparison of a transaction.
public struct Compare: Hashable, Sendable {
    public enum Target: String, Sendable { case modRevision = "MOD", version = "VERSION", createRevision = "CREATE", lease = "LEASE" }
    public enum Result: String, Sendable { case equal = "EQUAL", greater = "GREATER", less = "LESS", notEqual = "NOT_EQUAL" }

    public var key: String
    public var target: Target
    public var result: Result
    public var value: Int64

    public init(key: String, target: Target, result: Result, value: Int64) {
        self.key = key
        self.target = target
        self.result = result
        self.value = value
    }
}

/// A write inside a transaction.
public enum TxnOperation: Hashable, Sendable {
    case put(key: String, value: [UInt8], lease: Int64)
    case delete(key: String)
}

/// The end of the key range that holds every key starting with `prefix` (etcd's `range_end`).
public func prefixRangeEnd(_ prefix: String) -> [UInt8] {
    var bytes = Array(prefix.utf8)
    while let last = bytes.last {
        if last < 0xff {
            bytes[bytes.count - 1] = last + 1
            return bytes
        }
        bytes.removeLast()
    }
    return [0]  // every key
}
