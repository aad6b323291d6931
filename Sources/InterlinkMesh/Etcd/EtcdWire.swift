import Foundation
import NIOPosix
import GRPCCore
import SwiftProtobuf

/// Who the embedded store is, as etcd says it in every response header and in `member list`:
/// one member whose IDs are derived from the cluster name, so they stay the same across
/// restarts and differ between clusters.
public struct StoreIdentity: Hashable, Sendable {
    public let name: String
    public let clusterID: UInt64
    public let memberID: UInt64
    /// The URLs clients reach the store at (`member list` shows them).
    public var clientURLs: [String]

    /// The etcd version the store says it speaks (`endpoint status`): etcd's v3 API as of 3.4.
    public static let version = "3.4.23"
    /// A single member that never elects: its raft term stays 1.
    public static let raftTerm: UInt64 = 1

    public init(cluster: String, clientURLs: [String] = []) {
        name = cluster
        clusterID = Self.fnv1a("interlink-cluster/" + cluster)
        memberID = Self.fnv1a("interlink-member/" + cluster)
        self.clientURLs = clientURLs
    }

    func header(revision: Int64) -> Etcdserverpb_ResponseHeader {
        var header = Etcdserverpb_ResponseHeader()
        header.clusterID = clusterID
        header.memberID = memberID
        header.revision = revision
        header.raftTerm = Self.raftTerm
        return header
    }

    /// FNV-1a, 64 bits; never 0 (etcd reads a member ID of 0 as "none").
    static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash == 0 ? 1 : hash
    }
}

extension Mvccpb_KeyValue {
    init(_ kv: KeyValue, keysOnly: Bool = false) {
        self.init()
        key = Data(kv.key.utf8)
        if !keysOnly { value = Data(kv.value) }
        createRevision = kv.createRevision
        modRevision = kv.modRevision
        version = kv.version
        lease = kv.lease
    }

    var model: KeyValue {
        KeyValue(
            key: String(decoding: key, as: UTF8.self), value: Array(value), createRevision: createRevision,
            modRevision: modRevision, version: version, lease: lease)
    }
}

extension StoreError {
    /// The gRPC status etcd answers with for the same error; the message is etcd's text,
    /// which etcd's Go client matches to tell errors apart.
    var rpcError: RPCError {
        let code: RPCError.Code = switch self {
        case .compacted, .futureRevision: .outOfRange
        case .leaseNotFound: .notFound
        case .invalid: .invalidArgument
        case .readOnly, .permissionDenied: .permissionDenied
        case .closed: .unavailable
        }
        return RPCError(code: code, message: description)
    }
}

/// Runs a store call off the cooperative pool (SQLite blocks while a write waits for fsync)
/// and answers store errors as etcd does.
func storeCall<Result: Sendable>(_ body: @escaping @Sendable () throws -> Result) async throws -> Result {
    do {
        return try await NIOThreadPool.singleton.runIfActive(body)
    } catch let error as StoreError {
        throw error.rpcError
    }
}
