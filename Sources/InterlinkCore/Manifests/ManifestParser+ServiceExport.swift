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

    /// `YYYY-MM-DDTHH:MM:SS`, optional fraction, then `Z` or `±HH:MM` (what Kubernetes writes).
    static func isRFC3339(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20, bytes.count <= 40 else { return false }
        func digits(_ range: Range<Int>) -> Bool { range.allSatisfy { bytes[$0] >= 0x30 && bytes[$0] <= 0x39 } }
        guard digits(0..<4), bytes[4] == 0x2D, digits(5..<7), bytes[7] == 0x2D, digits(8..<10), bytes[10] == 0x54 || bytes[10] == 0x74,
            digits(11..<13), bytes[13] == 0x3A, digits(14..<16), bytes[16] == 0x3A, digits(17..<19)
        else { return false }
        var index = 19
        if bytes[index] == 0x2E {
            index += 1
            let start = index
            while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 { index += 1 }
            guard index > start else { return false }
        }
        let zone = bytes[index...]
        if zone.count == 1 { return zone.first == 0x5A || zone.first == 0x7A }
        guard zone.count == 6, zone.first == 0x2B || zone.first == 0x2D else { return false }
        let z = Array(zone)
        return z[1...2].allSatisfy { $0 >= 0x30 && $0 <= 0x39 } && z[3] == 0x3A && z[4...5].allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }
}
