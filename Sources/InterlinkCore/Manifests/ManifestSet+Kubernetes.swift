/// What Kubernetes-style manifests add to a set: skipped objects, ServiceExports.
extension ManifestSet {
    /// Services read and left out (headless, ExternalName): their EndpointSlices and exports
    /// are left out with them rather than being problems.
    public var skippedServices: Set<ServiceName> {
        Set(skipped.filter { $0.kind == "Service" }.compactMap { ServiceName(parsing: $0.name) })
    }

    /// The ServiceExport of `name`, if the manifests have one.
    public func export(of name: ServiceName) -> ServiceExportSpec? {
        exports.first { $0.value.name == name }?.value
    }

    /// A ServiceExport makes its Service global and shared (KEP-1645); an annotation that says
    /// otherwise contradicts it. Two exports of one Service are a problem too.
    func exportProblems(services: [ServiceName: Located<ServiceSpec>]) -> [ManifestProblem] {
        var problems: [ManifestProblem] = []
        var seen: Set<ServiceName> = []
        for located in exports {
            let name = located.value.name
            guard seen.insert(name).inserted else {
                problems.append(ManifestProblem(
                    file: located.file, document: located.document, field: Self.itemField(located.item, "metadata.name"),
                    message: "ServiceExport \(name) is defined twice: names must be unique per namespace"))
                continue
            }
            guard let service = services[name]?.value else { continue }  // noted by `exportNotes`
            for (field, value, meaning) in ServiceAnnotations.exportContradictions(service.annotations) {
                problems.append(ManifestProblem(
                    file: located.file, document: located.document, field: Self.itemField(located.item, "metadata.name"),
                    message: "ServiceExport \(name) exports the Service, but the Service's annotation \(field): \"\(value)\" says it is not \(meaning): remove the annotation or the ServiceExport"))
            }
        }
        return problems
    }

    /// Notes for exports whose Service is not in the manifests (MCS: `ServiceNotFound`).
    public func exportNotes() -> [ManifestProblem] {
        let names = Set(services.map(\.value.name))
        let skippedNames = skippedServices
        return exports.filter { !names.contains($0.value.name) }.map { located in
            let why = skippedNames.contains(located.value.name)
                ? "its Service was skipped (no L4 frontend), so nothing is exported"
                : "no Service \(located.value.name) in the manifests, so nothing is exported until one is added"
            return ManifestProblem(
                file: located.file, document: located.document, field: Self.itemField(located.item, ""),
                message: "ServiceExport \(located.value.name): \(why)")
        }
    }

    static func itemField(_ item: Int?, _ field: String) -> String {
        guard let item else { return field }
        return field.isEmpty ? "items[\(item)]" : "items[\(item)].\(field)"
    }

    /// What a reader should be told about the objects left out and the notes, one line each:
    /// per file, one summary of the kinds Interlink does not read, then each object left out
    /// for a reason, then the notes.
    public func readingReport() -> [String] {
        var lines: [String] = []
        var files: [String] = []
        var unread: [String: [SkippedObject]] = [:]
        for object in skipped where object.reason == nil {
            if unread[object.file] == nil { files.append(object.file) }
            unread[object.file, default: []].append(object)
        }
        for file in files {
            let objects = unread[file] ?? []
            let shown = objects.prefix(10).map { "\($0.kind) \($0.name)" }.joined(separator: ", ")
            let more = objects.count > 10 ? " and \(objects.count - 10) more" : ""
            let noun = objects.count == 1 ? "object" : "objects"
            lines.append("\(file): skipped \(objects.count) \(noun): \(shown)\(more) (\(SkippedObject.readKinds))")
        }
        for object in skipped {
            guard let reason = object.reason else { continue }
            let position = object.item.map { "document \(object.document): items[\($0)]" } ?? "document \(object.document)"
            lines.append("\(object.file): \(position): skipped \(object.kind) \(object.name): \(reason)")
        }
        lines += (notes + exportNotes()).map(\.description)
        return lines
    }
}

extension ManifestSet {
    /// Every ServiceExport given a creation time: its own `metadata.creationTimestamp`, else
    /// the one `previous` gave it (an export keeps its age across reloads), else `now`. The
    /// oldest export wins a conflict across clusters, so the age must not move.
    public func stampingExports(previous: ManifestSet, now: String) -> ManifestSet {
        var result = self
        for index in result.exports.indices where result.exports[index].value.creationTimestamp == nil {
            let name = result.exports[index].value.name
            result.exports[index].value.creationTimestamp = previous.export(of: name)?.creationTimestamp ?? now
        }
        return result
    }
}
