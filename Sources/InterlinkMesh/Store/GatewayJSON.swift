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

    /// The object as one line of JSON. A small writer of our own: Foundation's
    /// `JSONSerialization` was most of the store's CPU when 254 clusters listed it at once.
    static func line(_ object: [String: Any]) -> ByteBuffer {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256)
        write(object, into: &bytes)
        bytes.append(UInt8(ascii: "\n"))
        return ByteBuffer(bytes: bytes)
    }

    private static func write(_ value: Any, into bytes: inout [UInt8]) {
        switch value {
        case let text as String:
            writeString(text, into: &bytes)
        case let flag as Bool:
            bytes.append(contentsOf: flag ? Array("true".utf8) : Array("false".utf8))
        case let number as Int:
            bytes.append(contentsOf: String(number).utf8)
        case let number as Int64:
            bytes.append(contentsOf: String(number).utf8)
        case let object as [String: Any]:
            bytes.append(UInt8(ascii: "{"))
            for (index, key) in object.keys.sorted().enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                writeString(key, into: &bytes)
                bytes.append(UInt8(ascii: ":"))
                write(object[key]!, into: &bytes)
            }
            bytes.append(UInt8(ascii: "}"))
        case let array as [Any]:
            bytes.append(UInt8(ascii: "["))
            for (index, element) in array.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                write(element, into: &bytes)
            }
            bytes.append(UInt8(ascii: "]"))
        default:
            writeString("\(value)", into: &bytes)
        }
    }

    private static func writeString(_ text: String, into bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 0xf)]])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
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
        case let number as NSNumber:
            guard let value = Int64(exactly: number) else { throw StoreError.invalid("\(name): \(number) is not a 64-bit integer") }
            return value
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
