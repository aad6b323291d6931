import Yams

/// Walks one YAML document, reading typed fields and recording a problem for each bad one.
struct FieldReader {
    let file: String
    let document: Int
    /// Where the object being read sits in its document: `items[3]` in a `List`, else empty.
    var prefix = ""
    private(set) var problems: [ManifestProblem] = []

    init(file: String, document: Int) {
        self.file = file
        self.document = document
    }

    static func join(_ parent: String, _ key: String) -> String {
        parent.isEmpty ? key : key.isEmpty ? parent : "\(parent).\(key)"
    }

    mutating func problem(at field: String, node: Node?, _ message: String) {
        problems.append(ManifestProblem(file: file, document: document, line: node?.mark?.line, field: Self.join(prefix, field), message: message))
    }

    mutating func mapping(_ node: Node, at field: String) -> Node.Mapping? {
        if case .mapping(let mapping) = node { return mapping }
        problem(at: field, node: node, "\(Self.render(node)) is not a mapping: expected key: value pairs")
        return nil
    }

    mutating func sequence(_ node: Node, at field: String) -> Node.Sequence? {
        if case .sequence(let sequence) = node { return sequence }
        problem(at: field, node: node, "\(Self.render(node)) is not a list: expected entries starting with '- '")
        return nil
    }

    /// A scalar field as text; a missing required field is a problem.
    mutating func string(_ mapping: Node.Mapping, _ key: String, at parent: String, required: Bool) -> String? {
        let field = Self.join(parent, key)
        guard let node = mapping[key], !Self.isNull(node) else {
            if required { problem(at: field, node: nil, "is missing: this field is required") }
            return nil
        }
        guard case .scalar(let scalar) = node else {
            problem(at: field, node: node, "\(Self.render(node)) is not a single value: expected text")
            return nil
        }
        return scalar.string
    }

    /// An integer in `range`; `what` names it in the message ("a port number").
    mutating func integer(_ mapping: Node.Mapping, _ key: String, at parent: String, required: Bool, in range: ClosedRange<Int>, what: String) -> Int? {
        let field = Self.join(parent, key)
        guard let text = string(mapping, key, at: parent, required: required) else { return nil }
        guard let value = Int(text), range.contains(value) else {
            problem(at: field, node: mapping[key], "\(text) is not \(what) (\(range.lowerBound)-\(range.upperBound))")
            return nil
        }
        return value
    }

    mutating func boolean(_ mapping: Node.Mapping, _ key: String, at parent: String) -> Bool? {
        let field = Self.join(parent, key)
        guard let text = string(mapping, key, at: parent, required: false) else { return nil }
        switch text.lowercased() {
        case "true": return true
        case "false": return false
        default:
            problem(at: field, node: mapping[key], "\(text) is not a boolean: expected true or false")
            return nil
        }
    }

    /// A mapping of text to text, such as labels or annotations.
    mutating func stringMap(_ mapping: Node.Mapping, _ key: String, at parent: String) -> [String: String] {
        let field = Self.join(parent, key)
        guard let node = mapping[key], !Self.isNull(node) else { return [:] }
        guard let map = self.mapping(node, at: field) else { return [:] }
        var result: [String: String] = [:]
        for (keyNode, valueNode) in map {
            guard case .scalar(let keyScalar) = keyNode else { continue }
            guard case .scalar(let valueScalar) = valueNode else {
                problem(at: "\(field)[\"\(keyScalar.string)\"]", node: valueNode, "\(Self.render(valueNode)) is not text: quote the value")
                continue
            }
            result[keyScalar.string] = valueScalar.string
        }
        return result
    }

    /// `null`, `~` or nothing, unquoted (YAML's null; JSON's `null`).
    static func isNull(_ node: Node) -> Bool {
        guard case .scalar(let scalar) = node else { return false }
        if scalar.tag == Tag(.null) { return true }
        return scalar.style == .plain && ["null", "Null", "NULL", "~", ""].contains(scalar.string)
    }

    static func render(_ node: Node) -> String {
        switch node {
        case .scalar(let scalar): scalar.string.isEmpty ? "(empty)" : scalar.string
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }
}
