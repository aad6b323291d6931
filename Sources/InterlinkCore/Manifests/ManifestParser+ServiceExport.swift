import Yams

extension ManifestParser {
    /// A `multicluster.x-k8s.io` ServiceExport: its name is the Service's; `spec` may carry
    /// `exportedLabels` and `exportedAnnotations`; `status` (conditions) is ignored.
    static func parseServiceExport(_ root: Node.Mapping, reader: inout FieldReader) -> ServiceExportSpec? {
        guard let metadata = parseMetadata(root, reader: &reader) else { return nil }
        var creation: String?
        if let text = reader.string(metadata.metadata, "creationTimestamp", at: "metadata", required: false) {
            guard isRFC3339(text) else {
                reader.problem(at: "metadata.creationTimestamp", node: metadata.metadata["creationTimestamp"], "\(text) is not a time: expected RFC 3339, such as 2026-12-01T10:00:00Z")
                return nil
            }
            creation = text
        }
        var labels: [String: String] = [:]
        var annotations: [String: String] = [:]
        if let specNode = root["spec"], !FieldReader.isNull(specNode), let spec = reader.mapping(specNode, at: "spec") {
            labels = reader.stringMap(spec, "exportedLabels", at: "spec")
            annotations = reader.stringMap(spec, "exportedAnnotations", at: "spec")
        }
        return ServiceExportSpec(
            name: ServiceName(namespace: metadata.namespace, name: metadata.name), creationTimestamp: creation,
            exportedLabels: labels, exportedAnnotations: annotations)
    }

    static func isRFC3339(_ text: String) -> Bool { RFC3339Time.milliseconds(text) != nil }
}
