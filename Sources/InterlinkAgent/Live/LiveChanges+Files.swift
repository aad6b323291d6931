import Foundation
import InterlinkAPI
import InterlinkCore

/// The agent's own manifest files as a base that live changes override.
///
/// How files and API changes combine: the files (`--manifests`) are the base; what `apply`,
/// `delete` and `annotate` changed wins over them, per object, until `revert` drops a
/// service's changes; `drain` lasts until `undrain`. A changed file is validated and applied
/// as a whole with the overrides on top: if the files, or the files with the overrides, have
/// any problem, nothing changes and the problems are logged and shown by `interlink status`.
extension LiveChanges {
    struct FilesStatus: Sendable {
        var lastChange: Date?
        var lastResult: String?
        var problems: [String] = []
        var report: [String] = []
    }

    /// The files changed: read them as a whole and, if valid with the overrides, make them the
    /// base. Returns whether they were taken.
    @discardableResult
    func reloadFiles(_ files: [ManifestFile]) async -> Bool {
        (try? await serialized { await reloadFilesNow(files) }) ?? false
    }

    /// The files could not be read (the path is gone, a file is unreadable): nothing changes.
    func filesUnreadable(_ errors: ManifestErrors) async {
        try? await serialized { reject(errors.problems.map(\.description), what: "manifest files cannot be read") }
    }

    private func reloadFilesNow(_ files: [ManifestFile]) async -> Bool {
        let nextBase: ManifestSet
        do {
            nextBase = try ManifestLoader.load(files: files, options: options)
        } catch let errors as ManifestErrors {
            reject(errors.problems.map(\.description), what: "changed manifest files are invalid")
            return false
        } catch {
            reject(["\(error)"], what: "changed manifest files are invalid")
            return false
        }
        let manifests: ManifestSet
        do {
            manifests = try withOverrides(nextBase, saved: saved)
        } catch {
            reject(error.problems.map { "with the live changes: \($0)" }, what: "changed manifest files conflict with the live changes")
            return false
        }
        do {
            try await install(manifests, reason: "manifest files changed")
        } catch {
            reject(["\(error)"], what: "changed manifest files cannot be served")
            return false
        }
        base = nextBase
        let report = nextBase.readingReport()
        filesStatus = FilesStatus(lastChange: Date(), lastResult: "applied", problems: [], report: report)
        logger.notice("manifest files changed; applied", metadata: [
            "services": "\(manifests.services.count)", "overrides": "\(overrides().count)",
        ])
        for line in report { logger.notice("manifests: \(line)") }
        return true
    }

    private func reject(_ problems: [String], what: String) {
        filesStatus.lastChange = Date()
        filesStatus.lastResult = "rejected"
        filesStatus.problems = Array(problems.prefix(20))
        logger.error("\(what); nothing changed, the previous manifests stay in force", metadata: [
            "problems": "\(problems.count)", "first": "\(problems.first ?? "")",
        ])
        for problem in problems.prefix(ManifestErrors.shownProblems) { logger.error("manifests: \(problem)") }
    }

    /// `base` with `saved`'s objects applied over it and its deleted services removed; throws
    /// the problems across the two.
    func withOverrides(_ base: ManifestSet, saved: Saved) throws(ManifestErrors) -> ManifestSet {
        var manifests = base
        if !saved.objects.isEmpty {
            let (set, problems) = ManifestParser.parse(yaml: saved.objectsYAML, file: key, options: options)
            guard problems.isEmpty else { throw ManifestErrors(problems) }
            manifests = manifests.applying(set)
        }
        for service in saved.deleted {
            if let name = ServiceName(parsing: service) { manifests = manifests.removingService(name) }
        }
        manifests = manifests.stampingExports(previous: effective, now: ManifestLoader.nowText())
        let problems = manifests.crossDocumentProblems()
        guard problems.isEmpty else { throw ManifestErrors(problems) }
        return manifests
    }

    /// The live changes in force over the files, as `KIND NAMESPACE/NAME`.
    func overrides() -> [String] {
        saved.objects.keys.sorted().map { key in
            let parts = key.split(separator: "/", maxSplits: 1)
            return parts.count == 2 ? "applied \(parts[0]) \(parts[1])" : "applied \(key)"
        } + saved.deleted.sorted().map { "deleted Service \($0)" }
            + saved.annotations.keys.sorted().map { "annotated Service \($0)" }
            + saved.drained.sorted().map { "drained backend \($0)" }
    }

    /// What `interlink status` shows of the files and the overrides.
    func manifestsDocument(path: String) -> ClustersDocument.Manifests {
        ClustersDocument.Manifests(
            path: path, lastChange: filesStatus.lastChange.map(ManifestLoader.rfc3339),
            lastResult: filesStatus.lastResult, problems: filesStatus.problems, report: filesStatus.report, overrides: overrides())
    }

    /// Drops every live change of a service (applied objects, deletion, annotations): the
    /// files' version of it is in force again, or it goes if the files do not have it.
    func revert(_ name: ServiceName) async throws {
        try await serialized {
            let (set, _) = ManifestParser.parse(yaml: saved.objectsYAML, file: key, options: options)
            let keys = [Saved.key("Service", name), Saved.key("ServiceExport", name)]
                + set.slices.filter { $0.value.service == name }.map { Saved.key("EndpointSlice", ServiceName(namespace: name.namespace, name: $0.value.name)) }
            var next = saved
            for key in keys { next.objects[key] = nil }
            next.deleted.removeAll { $0 == "\(name)" }
            next.annotations["\(name)"] = nil
            guard next != saved else { throw LiveChangeError.noOverrides(name) }
            let manifests = try withOverrides(base, saved: next)
            try await commit(next, manifests: manifests, reason: "reverted \(name) to the manifest files")
        }
    }
}
