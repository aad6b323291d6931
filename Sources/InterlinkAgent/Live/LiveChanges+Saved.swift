import Foundation
import InterlinkAPI
import InterlinkCore

extension LiveChanges {
    /// What is saved under `interlink/live/<cluster>`: the current effective changes, never a
    /// history. Re-applying an object replaces it; deleting a service removes its objects.
    struct Saved: Codable, Equatable, Sendable {
        /// Objects applied over the agent's own files, by `Kind/namespace/name`: each one's YAML.
        var objects: [String: String] = [:]
        /// Services of the agent's own files that were deleted (NAMESPACE/NAME).
        var deleted: [String] = []
        /// Per service, the annotation changes made with `annotate` (nil removes one).
        var annotations: [String: [String: String?]] = [:]
        /// Drained backends (IP:PORT).
        var drained: [String] = []

        init() {}

        /// Also reads what earlier versions saved: a growing list of applied files
        /// (`applied`), replayed in order at restore and saved back in this form.
        init(from decoder: Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            objects = try container.decodeIfPresent([String: String].self, forKey: .objects) ?? [:]
            deleted = try container.decodeIfPresent([String].self, forKey: .deleted) ?? []
            annotations = try container.decodeIfPresent([String: [String: String?]].self, forKey: .annotations) ?? [:]
            drained = try container.decodeIfPresent([String].self, forKey: .drained) ?? []
            legacyApplied = try container.decodeIfPresent([File].self, forKey: .applied) ?? []
        }

        func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(objects, forKey: .objects)
            try container.encode(deleted, forKey: .deleted)
            try container.encode(annotations, forKey: .annotations)
            try container.encode(drained, forKey: .drained)
        }

        enum CodingKeys: String, CodingKey { case objects, deleted, annotations, drained, applied }

        /// Files applied, as earlier versions saved them (read only).
        var legacyApplied: [File] = []

        /// The applied objects as one multi-document YAML text, in key order.
        var objectsYAML: String {
            objects.sorted { $0.key < $1.key }.map(\.value).joined(separator: "\n---\n")
        }

        /// Records the objects of `set`, parsed from `yaml`, replacing those of the same kind
        /// and name; a service that comes back is no longer deleted.
        mutating func record(_ set: ManifestSet, parsedFrom yaml: String) {
            let texts = ManifestParser.ObjectTexts(yaml: yaml)
            for located in set.services {
                guard let text = texts.text(document: located.document, item: located.item) else { continue }
                objects[Self.key("Service", located.value.name)] = text
                deleted.removeAll { $0 == "\(located.value.name)" }
                annotations["\(located.value.name)"] = nil
            }
            let skipped = set.skippedServices
            for located in set.slices where !skipped.contains(located.value.service) {
                guard let text = texts.text(document: located.document, item: located.item) else { continue }
                let name = ServiceName(namespace: located.value.service.namespace, name: located.value.name)
                objects[Self.key("EndpointSlice", name)] = text
            }
            for located in set.exports {
                guard let text = texts.text(document: located.document, item: located.item) else { continue }
                objects[Self.key("ServiceExport", located.value.name)] = text
            }
        }

        /// Forgets a service's objects and annotations; `tombstone` when the agent's own files
        /// define it, so that a restart does not bring it back.
        mutating func remove(_ service: ServiceName, slices: [String], tombstone: Bool) {
            objects[Self.key("Service", service)] = nil
            for slice in slices { objects[Self.key("EndpointSlice", ServiceName(namespace: service.namespace, name: slice))] = nil }
            objects[Self.key("ServiceExport", service)] = nil
            annotations["\(service)"] = nil
            if tombstone, !deleted.contains("\(service)") { deleted.append("\(service)") }
        }

        static func key(_ kind: String, _ name: ServiceName) -> String { "\(kind)/\(name.namespace)/\(name.name)" }
    }

    /// A manifest file sent to `POST /v1/manifests` (saved as it came).
    typealias File = ManifestFile
}
