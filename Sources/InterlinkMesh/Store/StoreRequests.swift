/// A key range as etcd reads it: `end` empty is the single key `key`; `end` `[0]` is every key
/// from `key` on; otherwise `[key, end)`. Keys compare as bytes.
public struct KeyRange: Hashable, Sendable {
    public var key: [UInt8]
    public var end: [UInt8]

    public init(key: [UInt8], end: [UInt8] = []) {
        self.key = key
        self.end = end
    }

    public static func prefix(_ prefix: String) -> KeyRange {
        KeyRange(key: Array(prefix.utf8), end: prefixRangeEnd(prefix))
    }

    public func contains(_ candidate: [UInt8]) -> Bool {
        if end.isEmpty { return candidate == key }
        if candidate.lexicographicallyPrecedes(key) { return false }
        return end == [0] || candidate.lexicographicallyPrecedes(end)
    }
}

/// One write or read inside a transaction, as etcd's `RequestOp`.
public enum StoreOperation: Hashable, Sendable {
    case put(key: [UInt8], value: [UInt8], lease: Int64, prevKV: Bool)
    case deleteRange(KeyRange, prevKV: Bool)
    case range(KeyRange)
}

/// What one operation of a transaction answered.
public enum StoreOperationResult: Hashable, Sendable {
    case put(revision: Int64, prev: KeyValue?)
    case deleteRange(revision: Int64, deleted: [KeyValue])
    case range(StoreRange)
}

/// A comparison of a transaction on one key (absent keys compare as 0 / empty).
public struct StoreCompare: Hashable, Sendable {
    public enum Target: Hashable, Sendable {
        case version(Int64), createRevision(Int64), modRevision(Int64), lease(Int64), value([UInt8])
    }
    public var key: [UInt8]
    public var target: Target
    public var result: Compare.Result

    public init(key: [UInt8], target: Target, result: Compare.Result) {
        self.key = key
        self.target = target
        self.result = result
    }
}

/// The answer of a range read.
public struct StoreRange: Hashable, Sendable {
    public var kvs: [KeyValue]
    /// How many keys the range holds (more than `kvs.count` when a limit cut it).
    public var count: Int
    public var more: Bool
    public var revision: Int64
}

/// A batch of watch events, all at one revision, or a progress notice (no events).
public struct StoreWatchBatch: Hashable, Sendable {
    public var revision: Int64
    public var events: [StoreEvent]
}

/// A change, with the previous value of the key when there was one.
public struct StoreEvent: Hashable, Sendable {
    public enum Kind: Hashable, Sendable { case put, delete }
    public var kind: Kind
    public var kv: KeyValue
    public var prev: KeyValue?
}
