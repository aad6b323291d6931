import Foundation

/// A JSON object read the way Go's `encoding/json` fills a struct, which is how Cilium reads
/// every value Interlink exchanges with it: a field matches a key of the same name or, failing
/// that, one equal to it case-insensitively; a missing key or `null` leaves the field's zero
/// value (false, 0, empty); unknown keys are ignored.
struct GoJSONFields {
    /// A key of a JSON object: a field name, or data (an address, a port name).
    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    let container: KeyedDecodingContainer<Key>

    init(_ decoder: any Decoder) throws {
        self.init(try decoder.container(keyedBy: Key.self))
    }

    init(_ container: KeyedDecodingContainer<Key>) {
        self.container = container
    }

    /// The key a Go field named `name` reads, if the object has one that is not `null`. The
    /// exact name is looked up first (what Cilium writes); only a miss scans for another case.
    func key(_ name: String) throws -> Key? {
        let exact = Key(stringValue: name)
        let key = container.contains(exact)
            ? exact : container.allKeys.first { $0.stringValue.caseInsensitiveCompare(name) == .orderedSame }
        guard let key, try !container.decodeNil(forKey: key) else { return nil }
        return key
    }

    func decode<Value: Decodable>(_ type: Value.Type, _ name: String) throws -> Value? {
        guard let key = try key(name) else { return nil }
        return try container.decode(Value.self, forKey: key)
    }

    func bool(_ name: String) throws -> Bool { try decode(Bool.self, name) ?? false }

    func string(_ name: String) throws -> String { try decode(String.self, name) ?? "" }

    /// An unsigned number, checked against `range`: Go refuses a value its field cannot hold.
    func number(_ name: String, in range: ClosedRange<Int>) throws -> Int {
        guard let key = try key(name) else { return 0 }
        let value = try container.decode(Int.self, forKey: key)
        guard range.contains(value) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "\(value) is outside \(range.lowerBound)-\(range.upperBound)")
        }
        return value
    }

    /// A nested object, or nil when missing or `null`.
    func object(_ name: String) throws -> GoJSONFields? {
        guard let key = try key(name) else { return nil }
        return GoJSONFields(try container.nestedContainer(keyedBy: Key.self, forKey: key))
    }

    /// A JSON object whose keys are data, as a map of strings (nil when missing or `null`).
    func strings(_ name: String) throws -> [String: String]? {
        guard let object = try object(name) else { return nil }
        var strings: [String: String] = [:]
        for entry in object.container.allKeys where try !object.container.decodeNil(forKey: entry) {
            strings[entry.stringValue] = try object.container.decode(String.self, forKey: entry)
        }
        return strings
    }
}
