import Foundation

/// The JSON shapes of etcd's v3 gRPC gateway: keys and values base64, 64-bit numbers as strings,
/// zero values left out.
enum GatewayWire {
    struct Header: Decodable {
        var revision: String?
    }

    struct KV: Decodable {
        var key: String?
        var value: String?
        var create_revision: String?
        var mod_revision: String?
        var version: String?
        var lease: String?

        func model() throws -> KeyValue {
            guard let key, let keyBytes = Data(base64Encoded: key) else { throw WireError("kv without a base64 key") }
            let valueBytes = value.flatMap { Data(base64Encoded: $0) } ?? Data()
            return KeyValue(
                key: String(decoding: keyBytes, as: UTF8.self), value: Array(valueBytes),
                createRevision: Int64(create_revision ?? "0") ?? 0, modRevision: Int64(mod_revision ?? "0") ?? 0,
                version: Int64(version ?? "0") ?? 0, lease: Int64(lease ?? "0") ?? 0)
        }
    }

    struct RangeResponse: Decodable {
        var header: Header?
        var kvs: [KV]?
    }

    /// Answers whose only field we use is the header (put, revoke, compaction).
    struct HeaderResponse: Decodable {
        var header: Header?
    }

    struct DeleteResponse: Decodable {
        var header: Header?
        var deleted: String?
    }

    /// A lease grant answers with this shape; a keep-alive wraps it in `result`.
    struct Lease: Decodable {
        var ID: String?
        var TTL: String?
    }

    struct LeaseKeepAliveResponse: Decodable {
        var result: Lease?
    }

    struct TxnResponse: Decodable {
        var header: Header?
        var succeeded: Bool?
    }

    struct WatchResponse: Decodable {
        struct Result: Decodable {
            struct Event: Decodable {
                var type: String?
                var kv: KV?
                var prev_kv: KV?
            }
            var header: Header?
            var created: Bool?
            var canceled: Bool?
            var compact_revision: String?
            var cancel_reason: String?
            var events: [Event]?
        }
        var result: Result?
        var error: ErrorBody?
    }

    struct ErrorBody: Decodable {
        var error: String?
        var message: String?
        var code: Int?
    }

    struct WireError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    static func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }
    static func base64(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }
}
