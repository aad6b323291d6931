import Foundation
import NIOCore

/// The etcd v3 JSON gateway's shapes as the embedded store writes and reads them: keys and
/// values base64, 64-bit numbers as strings, zero values left out.
enum GatewayJSON {
    static func header(_ revision: Int64) -> [String: Any] {
        ["cluster_id": "1", "member_id": "1", "revision": String(revision), "raft_term": "1"]
    }

    static func kv(_ kv: KeyValue, keysOnly: Bool = false) -> [String: Any] {
        var object: [String: Any] = ["key": Data(kv.key.utf8).base64EncodedString()]
        if !keysOnly, !kv.value.isEmpty { object["value"] = Data(kv.value).base64EncodedString() }
        if kv.createRevision != 0 { object["create_revision"] = String(kv.createRevision) }
        if kv.modRevision != 0 { object["mod_revision"] = String(kv.modRevision) }
        if kv.version != 0 { object["version"] = String(kv.version) }
        if kv.lease != 0 { object["lease"] = String(kv.lease) }
        return object
    }

    static func range(_ range: StoreRange, keysOnly: Bool, countOnly: Bool) -> [String: Any] {
        var object: [String: Any] = ["header": header(range.revision)]
        if range.count != 0 { object["count"] = String(range.count) }
        if range.more { object["more"] = true }
        if !countOnly, !range.kvs.isEmpty { object["kvs"] = range.kvs.map { kv($0, keysOnly: keysOnly) } }
        return object
    }

    static func event(_ event: StoreEvent) -> [String: Any] {
        var object: [String: Any] = ["kv": kv(event.kv)]
        if event.kind == .delete { object["type"] = "DELETE" }  // PUT is the zero value: left out
        if let prev = event.prev { object["prev_kv"] = kv(prev) }
        return object
    }

    static func line(_ object: [String: Any]) -> ByteBuffer {
        var data = (try? JSONSerialization.data(withJSONObject: object)) ?? Data("{}".utf8)
        data.append(UInt8(ascii: "\n"))
        return ByteBuffer(bytes: data)
    }
}

/// A gateway request body, read field by field with errors that name the field.
struct GatewayRequest {
    let fields: [String: Any]

    init(_ data: Data) throws {
        if data.isEmpty {
            fields = [:]
            return
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw StoreError.invalid("the request body is not a JSON object")
        }
        fields = object
    }

    init(fields: [String: Any]) { self.fields = fields }

    /// A base64 field as bytes; absent: empty.
    func bytes(_ name: String) throws -> [UInt8] {
        guard let value = fields[name] else { return [] }
        guard let text = value as? String, let data = Data(base64Encoded: text) else {
            throw StoreError.invalid("\(name): expected base64 text, got \(value)")
        }
        return Array(data)
    }

    /// A key: base64 of UTF-8 text (Cluster Mesh keys are text).
    func key(_ name: String = "key") throws -> [UInt8] {
        let bytes = try bytes(name)
        guard String(validating: bytes, as: UTF8.self) != nil else { throw StoreError.invalid("\(name): keys must be UTF-8 text") }
        return bytes
    }

    /// A 64-bit number sent as a string (or a JSON number); absent: 0.
    func int(_ name: String) throws -> Int64 {
        switch fields[name] {
        case nil: return 0
        case let text as String:
            guard let value = Int64(text) else { throw StoreError.invalid("\(name): \(text) is not a 64-bit integer") }
            return value
        case let number as NSNumber: return number.int64Value
        case let other?: throw StoreError.invalid("\(name): expected a number, got \(other)")
        }
    }

    func bool(_ name: String) -> Bool {
        switch fields[name] {
        case let value as Bool: value
        case let number as NSNumber: number.boolValue
        case let text as String: text == "true"
        default: false
        }
    }

    func object(_ name: String) -> GatewayRequest? {
        (fields[name] as? [String: Any]).map(GatewayRequest.init(fields:))
    }

    func objects(_ name: String) -> [GatewayRequest] {
        ((fields[name] as? [Any]) ?? []).compactMap { ($0 as? [String: Any]).map(GatewayRequest.init(fields:)) }
    }

    func keyRange() throws -> KeyRange {
        KeyRange(key: try key(), end: try bytes("range_end"))
    }
}
