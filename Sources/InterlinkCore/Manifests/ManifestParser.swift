import Yams

/// Reads Kubernetes-style multi-document YAML into a `ManifestSet`, collecting every problem.
///
/// Supported: `v1/Service` and `discovery.k8s.io/v1/EndpointSlice`. Unknown kinds are
/// problems, not silently skipped. Fields Interlink does not use are ignored.
///
/// Bounded: a document whose nodes, with every alias expanded, number more than
/// `maximumNodesPerDocument` is refused before it is read (a few kilobytes of nested aliases
/// expand to billions of nodes); EndpointSlices keep Kubernetes' own limits.
public enum ManifestParser {
    public static let maximumNodesPerDocument = 250_000
    /// Kubernetes' limits on an EndpointSlice (`discovery/v1` validation).
    public static let maximumEndpointsPerSlice = 1000
    public static let maximumAddressesPerEndpoint = 100
    public static let maximumPortsPerSlice = 100

    public static func parse(yaml: String, file: String) -> (ManifestSet, [ManifestProblem]) {
        var set = ManifestSet()
        var problems: [ManifestProblem] = []
        let documents: YamlSequence<Node>
        do {
            documents = try Yams.compose_all(yaml: yaml)
        } catch {
            return (set, [yamlProblem(error, file: file, document: nil)])
        }
        var iterator = documents.makeIterator()
        var number = 0
        while let node = iterator.next() {
            number += 1
            var reader = FieldReader(file: file, document: number)
            if !fitsNodeLimit(node) {
                reader.problem(at: "", node: node, "has more than \(maximumNodesPerDocument) YAML nodes once its aliases are expanded: split it into smaller documents or write the repeated parts out")
            } else {
                parseDocument(node, reader: &reader, into: &set)
            }
            problems += reader.problems
        }
        if let error = iterator.error {
            problems.append(yamlProblem(error, file: file, document: number + 1))
        }
        return (set, problems)
    }

    /// Each document of `yaml` (empty ones included, so document N is at index N − 1) as YAML
    /// text of its own, for keeping one object apart from the rest of its file. Call it only on
    /// text that `parse` accepted: its documents are within the node limit.
    public static func documentTexts(yaml: String) -> [String] {
        guard let documents = try? Yams.compose_all(yaml: yaml) else { return [] }
        return documents.map { (try? Yams.serialize(node: $0)) ?? "" }
    }

    /// Whether `node`, aliases expanded, has at most `maximumNodesPerDocument` nodes; stops
    /// counting as soon as it has more, so an alias bomb costs no more than the limit.
    static func fitsNodeLimit(_ node: Node) -> Bool {
        var budget = maximumNodesPerDocument
        var pending = [node]
        while let next = pending.popLast() {
            budget -= 1
            if budget < 0 { return false }
            switch next {
            case .scalar, .alias: break
            case .mapping(let mapping):
                for (key, value) in mapping {
                    pending.append(key)
                    pending.append(value)
                }
            case .sequence(let sequence): pending.append(contentsOf: sequence)
            }
        }
        return true
    }

    static func yamlProblem(_ error: Error, file: String, document: Int?) -> ManifestProblem {
        if let yamlError = error as? YamlError {
            switch yamlError {
            case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
                return ManifestProblem(file: file, document: document, line: mark.line, field: "", message: "not valid YAML: \(problem)")
            default:
                break
            }
        }
        return ManifestProblem(file: file, document: document, field: "", message: "not valid YAML: \(error)")
    }

    static func parseDocument(_ node: Node, reader: inout FieldReader, into set: inout ManifestSet) {
        if case .scalar(let scalar) = node, scalar.string.isEmpty || scalar.tag == .init(.null) {
            return  // an empty document, e.g. after a trailing `---`
        }
        guard let root = reader.mapping(node, at: "") else { return }
        let apiVersion = reader.string(root, "apiVersion", at: "", required: true)
        let kind = reader.string(root, "kind", at: "", required: true)
        guard let apiVersion, let kind else { return }
        switch (kind, apiVersion) {
        case ("Service", "v1"):
            if let service = parseService(root, reader: &reader) {
                set.add(service, file: reader.file, document: reader.document)
            }
        case ("EndpointSlice", "discovery.k8s.io/v1"):
            if let slice = parseEndpointSlice(root, reader: &reader) {
                set.add(slice, file: reader.file, document: reader.document)
            }
        case ("Service", _):
            reader.problem(at: "apiVersion", node: root["apiVersion"], "\(apiVersion) is not supported for Service: expected v1")
        case ("EndpointSlice", _):
            reader.problem(at: "apiVersion", node: root["apiVersion"], "\(apiVersion) is not supported for EndpointSlice: expected discovery.k8s.io/v1")
        default:
            reader.problem(at: "kind", node: root["kind"], "\(kind) is not supported: expected Service (apiVersion v1) or EndpointSlice (apiVersion discovery.k8s.io/v1)")
        }
    }

    /// `metadata.name` and `metadata.namespace` (default `default`), both DNS labels.
    static func parseMetadata(_ root: Node.Mapping, reader: inout FieldReader) -> (metadata: Node.Mapping, name: String, namespace: String)? {
        guard let metadataNode = root["metadata"] else {
            reader.problem(at: "metadata", node: nil, "is missing: every object needs metadata.name")
            return nil
        }
        guard let metadata = reader.mapping(metadataNode, at: "metadata") else { return nil }
        let name = reader.string(metadata, "name", at: "metadata", required: true)
        let namespace = reader.string(metadata, "namespace", at: "metadata", required: false) ?? "default"
        if let name, !isDNSLabel(name) {
            reader.problem(at: "metadata.name", node: metadata["name"], "\(name) is not a valid name: expected lowercase letters, digits and '-', at most 63, starting and ending with a letter or digit")
        }
        if !isDNSLabel(namespace) {
            reader.problem(at: "metadata.namespace", node: metadata["namespace"], "\(namespace) is not a valid namespace: expected lowercase letters, digits and '-', at most 63, starting and ending with a letter or digit")
        }
        guard let name, isDNSLabel(name), isDNSLabel(namespace) else { return nil }
        return (metadata, name, namespace)
    }

    static func isDNSLabel(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty, bytes.count <= 63, bytes.first != 0x2D, bytes.last != 0x2D else { return false }
        return bytes.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }
    }
}
