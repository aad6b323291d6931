import Yams

/// Reads Kubernetes-style multi-document YAML (or JSON) into a `ManifestSet`, collecting every
/// problem.
///
/// Read: `v1/Service`, `discovery.k8s.io/v1/EndpointSlice` and `multicluster.x-k8s.io`
/// `ServiceExport` (v1alpha1, v1beta1), as documents of their own or as `items` of a list
/// (`kind: List` as kubectl prints it, or a typed `ServiceList`...). Objects of other kinds are
/// skipped and reported once per file (problems with `strict`). Fields Interlink does not use
/// are ignored, never an error.
///
/// Bounded: a document whose nodes, with every alias expanded, number more than
/// `maximumNodesPerDocument` plus the text's length in bytes is refused before it is read (a
/// few kilobytes of nested aliases expand to billions of nodes; without aliases a document
/// never has more nodes than bytes); EndpointSlices keep Kubernetes' own limits.
public enum ManifestParser {
    public static let maximumNodesPerDocument = 250_000
    /// Kubernetes' limits on an EndpointSlice (`discovery/v1` validation).
    public static let maximumEndpointsPerSlice = 1000
    public static let maximumAddressesPerEndpoint = 100
    public static let maximumPortsPerSlice = 100

    public static func parse(yaml: String, file: String, options: ManifestOptions = ManifestOptions()) -> (ManifestSet, [ManifestProblem]) {
        var set = ManifestSet()
        var problems: [ManifestProblem] = []
        let documents: YamlSequence<Node>
        do {
            documents = try Yams.compose_all(yaml: yaml)
        } catch {
            return (set, [yamlProblem(error, file: file, document: nil)])
        }
        let nodeLimit = maximumNodesPerDocument + yaml.utf8.count
        var iterator = documents.makeIterator()
        var number = 0
        while let node = iterator.next() {
            number += 1
            var reader = FieldReader(file: file, document: number)
            if !fitsNodeLimit(node, limit: nodeLimit) {
                reader.problem(at: "", node: node, "has more than \(nodeLimit) YAML nodes once its aliases are expanded: split it into smaller documents or write the repeated parts out")
            } else {
                var context = Context(reader: reader, options: options)
                parseDocument(node, context: &context, into: &set)
                reader = context.reader
            }
            problems += reader.problems
        }
        if let error = iterator.error {
            problems.append(yamlProblem(error, file: file, document: number + 1))
        }
        return (set, problems)
    }

    /// The objects of `yaml` as YAML texts of their own, for keeping one object apart from the
    /// rest of its file. Call it only on text that `parse` accepted: its documents are within
    /// the node limit.
    public struct ObjectTexts {
        let documents: [Node]

        public init(yaml: String) {
            documents = (try? Yams.compose_all(yaml: yaml)).map { Array($0) } ?? []
        }

        /// Document `document` (1-based), or item `item` of its `items` when it is a list.
        public func text(document: Int, item: Int?) -> String? {
            guard document >= 1, document <= documents.count else { return nil }
            var node = documents[document - 1]
            if let item {
                guard case .sequence(let items)? = node.mapping?["items"], item < items.count else { return nil }
                node = items[item]
            }
            return try? Yams.serialize(node: node)
        }
    }

    /// Whether `node`, aliases expanded, has at most `maximumNodesPerDocument` nodes; stops
    /// counting as soon as it has more, so an alias bomb costs no more than the limit.
    static func fitsNodeLimit(_ node: Node, limit: Int = maximumNodesPerDocument) -> Bool {
        var budget = limit
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

    /// What parsing one object needs besides its node.
    struct Context {
        var reader: FieldReader
        let options: ManifestOptions
        /// The object's index in its document's `items`, if it is in a list.
        var item: Int?
    }

    static func parseDocument(_ node: Node, context: inout Context, into set: inout ManifestSet) {
        if case .scalar(let scalar) = node, scalar.string.isEmpty || scalar.tag == .init(.null) {
            return  // an empty document, e.g. after a trailing `---`
        }
        guard let root = context.reader.mapping(node, at: ""), let kind = context.reader.string(root, "kind", at: "", required: true) else { return }
        // `kind: List` (kubectl's `get -o yaml` of several kinds) or a typed list (`ServiceList`):
        // the objects are its `items`, each with its own apiVersion and kind.
        if kind.hasSuffix("List"), root["items"] != nil {
            guard let itemsNode = root["items"], !FieldReader.isNull(itemsNode) else { return }
            guard let items = context.reader.sequence(itemsNode, at: "items") else { return }
            let listItemKind = String(kind.dropLast(4))
            for (index, itemNode) in items.enumerated() {
                context.item = index
                context.reader.prefix = "items[\(index)]"
                parseObject(itemNode, listItemKind: listItemKind.isEmpty ? nil : listItemKind, context: &context, into: &set)
            }
            context.item = nil
            context.reader.prefix = ""
            return
        }
        parseObject(node, listItemKind: nil, context: &context, into: &set)
    }

    /// One object: read when Interlink reads its kind, else skipped (a problem with `strict`).
    /// In a typed list, items may leave out `kind` and `apiVersion` (`listItemKind`).
    static func parseObject(_ node: Node, listItemKind: String?, context: inout Context, into set: inout ManifestSet) {
        guard let root = context.reader.mapping(node, at: "") else { return }
        let kind: String?
        let apiVersion: String?
        if let listItemKind, root["kind"] == nil {
            kind = listItemKind
            apiVersion = root["apiVersion"] == nil ? defaultAPIVersion[listItemKind] : context.reader.string(root, "apiVersion", at: "", required: true)
        } else {
            kind = context.reader.string(root, "kind", at: "", required: true)
            apiVersion = context.reader.string(root, "apiVersion", at: "", required: true)
        }
        guard let kind, let apiVersion else { return }
        let file = context.reader.file, document = context.reader.document
        switch (kind, apiVersion) {
        case ("Service", "v1"):
            let before = context.reader.problems.count
            if let service = parseService(root, context: &context, into: &set) {
                set.add(service, file: file, document: document, item: context.item)
            } else if context.reader.problems.count > before, let name = ServiceName(parsing: objectName(root)) ?? ServiceName(parsing: "default/\(objectName(root))") {
                set.invalidServices.insert(name)
            }
        case ("EndpointSlice", "discovery.k8s.io/v1"):
            if let slice = parseEndpointSlice(root, context: &context, into: &set) {
                set.add(slice, file: file, document: document, item: context.item)
            }
        case ("ServiceExport", let version) where serviceExportVersions.contains(version):
            if let export = parseServiceExport(root, reader: &context.reader) {
                set.add(export, file: file, document: document, item: context.item)
            }
        case ("Service", _):
            context.reader.problem(at: "apiVersion", node: root["apiVersion"], "\(apiVersion) is not supported for Service: expected v1")
        case ("EndpointSlice", _):
            context.reader.problem(at: "apiVersion", node: root["apiVersion"], "\(apiVersion) is not supported for EndpointSlice: expected discovery.k8s.io/v1")
        case ("ServiceExport", _):
            context.reader.problem(at: "apiVersion", node: root["apiVersion"], "\(apiVersion) is not supported for ServiceExport: expected \(serviceExportVersions.joined(separator: " or "))")
        default:
            let name = objectName(root)
            if context.options.strict {
                context.reader.problem(at: "kind", node: root["kind"], "\(kind) \(name) is not read by Interlink (\(SkippedObject.readKinds)): remove it, or run without --strict to skip it")
            } else {
                set.skipped.append(SkippedObject(file: file, document: document, item: context.item, kind: kind, name: name, reason: nil))
            }
        }
    }

    /// The apiVersion of an item of a typed list that leaves it out.
    static let defaultAPIVersion = ["Service": "v1", "EndpointSlice": "discovery.k8s.io/v1"]
    static let serviceExportVersions = ["multicluster.x-k8s.io/v1alpha1", "multicluster.x-k8s.io/v1beta1"]

    /// `namespace/name`, or `name`, as well as it can be read (for reports, never validated).
    static func objectName(_ root: Node.Mapping) -> String {
        guard case .mapping(let metadata)? = root["metadata"], case .scalar(let name)? = metadata["name"] else { return "(unnamed)" }
        let shown = String(name.string.prefix(253))
        if case .scalar(let namespace)? = metadata["namespace"] { return "\(namespace.string.prefix(63))/\(shown)" }
        return shown
    }

    /// Leaves out an object Interlink reads but cannot serve, saying why (a problem with `strict`).
    static func skip(kind: String, name: String, reason: String, context: inout Context, into set: inout ManifestSet) {
        if context.options.strict {
            context.reader.problem(at: "", node: nil, "\(kind) \(name) cannot be served: \(reason); remove it, or run without --strict to skip it")
        } else {
            set.skipped.append(SkippedObject(file: context.reader.file, document: context.reader.document, item: context.item, kind: kind, name: name, reason: reason))
        }
    }

    /// A remark about an object that is served anyway.
    static func note(at field: String, _ message: String, context: Context, into set: inout ManifestSet) {
        set.notes.append(ManifestProblem(
            file: context.reader.file, document: context.reader.document, field: FieldReader.join(context.reader.prefix, field), message: message))
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
