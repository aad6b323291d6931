import Foundation
import InterlinkCore
import InterlinkMesh
import Logging

/// Operator changes made through the API (`interlink apply`, `delete`, `annotate`, `drain`,
/// `undrain`), applied to the reconciler and kept in this cluster's kvstore under
/// `interlink/live/<cluster>` so that they survive a restart. Without a kvstore (`--kvstore none`) they last until the
/// agent stops, and the API says so.
///
/// Threading: an actor; changes are applied and saved one at a time.
actor LiveChanges {
    /// What is saved: per service the annotation changes (nil removes), and drained backends.
    struct Overrides: Codable, Equatable {
        struct File: Codable, Equatable, Sendable {
            var name: String
            var yaml: String
        }
        /// Manifests applied, in order, over the agent's own.
        var applied: [File] = []
        /// Services deleted (NAMESPACE/NAME), even if a manifest file defines them.
        var deleted: [String] = []
        var annotations: [String: [String: String?]] = [:]
        var drained: [String] = []

        init() {}

        init(from decoder: Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            applied = try container.decodeIfPresent([File].self, forKey: .applied) ?? []
            deleted = try container.decodeIfPresent([String].self, forKey: .deleted) ?? []
            annotations = try container.decodeIfPresent([String: [String: String?]].self, forKey: .annotations) ?? [:]
            drained = try container.decodeIfPresent([String].self, forKey: .drained) ?? []
        }
    }

    let reconciler: Reconciler
    let store: (any KVStore)?
    let key: String
    let logger: Logger
    let cluster: ClusterName
    private var overrides = Overrides()
    /// The manifests in force: the agent's files, then what was applied, minus deletions.
    private var effective: ManifestSet

    init(reconciler: Reconciler, store: (any KVStore)?, cluster: ClusterName, manifests: ManifestSet, logger: Logger) {
        self.reconciler = reconciler
        self.store = store
        self.cluster = cluster
        self.effective = manifests
        self.key = "interlink/live/\(cluster.rawValue)"
        self.logger = logger
    }

    nonisolated var isPersistent: Bool { store != nil }

    /// Reads the saved changes and applies them; one that no longer applies (service gone,
    /// annotation now invalid) is logged and dropped. Retries while the store is unreachable.
    func restore() async {
        guard let store else { return }
        var delay = Duration.milliseconds(200)
        while !Task.isCancelled {
            do {
                guard let value = try await store.range(key, prefix: false, revision: 0).kvs.first?.value else { return }
                let saved = try JSONDecoder().decode(Overrides.self, from: Data(value))
                var next = effective
                for file in saved.applied {
                    let (set, problems) = ManifestParser.parse(yaml: file.yaml, file: file.name)
                    guard problems.isEmpty else {
                        logger.warning("a saved manifest no longer parses; dropped", metadata: ["file": "\(file.name)"])
                        continue
                    }
                    next = next.applying(set)
                    overrides.applied.append(file)
                }
                for service in saved.deleted {
                    guard let name = ServiceName(parsing: service) else { continue }
                    next = next.removingService(name)
                    overrides.deleted.append(service)
                }
                if !overrides.applied.isEmpty || !overrides.deleted.isEmpty {
                    if next.crossDocumentProblems().isEmpty {
                        try await reconciler.replaceServices(next.localServices(cluster: cluster), reason: "saved live changes restored")
                        effective = next
                    } else {
                        logger.error("the saved manifests conflict with the agent's files; not restored", metadata: ["problems": "\(next.crossDocumentProblems().count)"])
                        overrides.applied = []
                        overrides.deleted = []
                    }
                }
                overrides.annotations = saved.annotations
                await reapplyAnnotations()
                for address in saved.drained {
                    if let endpoint = SocketEndpoint(address), await reconciler.setDrained(endpoint, true, evenIfUnknown: true) {
                        overrides.drained.append(address)
                    }
                }
                logger.info("live changes restored", metadata: ["services": "\(overrides.annotations.count)", "drained": "\(overrides.drained.count)"])
                return
            } catch {
                logger.warning("cannot read the saved live changes yet; retrying", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
            }
        }
    }

    /// What `apply` did to each service.
    struct AppliedService: Codable, Sendable {
        var service: String
        var action: String
    }

    /// Validates the files alone, then with the manifests in force; only if everything is
    /// valid does it replace the services (binding new frontends) and save. A service in the
    /// files loses its earlier `annotate` changes: the applied manifest is its new truth.
    func apply(_ files: [Overrides.File]) async throws -> [AppliedService] {
        var incoming = ManifestSet()
        var problems: [ManifestProblem] = []
        for file in files {
            let (set, fileProblems) = ManifestParser.parse(yaml: file.yaml, file: file.name)
            incoming.merge(set)
            problems += fileProblems
        }
        guard problems.isEmpty else { throw ManifestErrors(problems) }
        let next = effective.applying(incoming)
        let crossProblems = next.crossDocumentProblems()
        guard crossProblems.isEmpty else { throw ManifestErrors(crossProblems) }
        let names = incoming.services.map(\.value.name)
        try await reconciler.replaceServices(
            next.localServices(cluster: cluster), reason: "applied \(files.map(\.name).joined(separator: ", "))")
        let result = names.map { AppliedService(service: "\($0)", action: effective.hasService($0) ? "configured" : "created") }
        effective = next
        overrides.applied += files
        overrides.deleted.removeAll { deleted in names.contains { "\($0)" == deleted } }
        for name in names { overrides.annotations["\(name)"] = nil }
        await reapplyAnnotations()
        try await save()
        return result
    }

    /// Removes a service and its EndpointSlices; its frontend stops listening (open
    /// connections go on).
    func delete(_ name: ServiceName) async throws {
        guard effective.hasService(name) else { throw LiveChangeError.noSuchService(name) }
        let next = effective.removingService(name)
        try await reconciler.replaceServices(next.localServices(cluster: cluster), reason: "deleted \(name)")
        effective = next
        overrides.deleted.append("\(name)")
        overrides.annotations["\(name)"] = nil
        await reapplyAnnotations()
        try await save()
    }

    /// After the services were rebuilt from manifests (or at start), the `annotate` changes go
    /// back on; one that no longer applies (service gone, value now invalid) is dropped.
    private func reapplyAnnotations() async {
        for (service, changes) in overrides.annotations.sorted(by: { $0.key < $1.key }) {
            do {
                guard let name = ServiceName(parsing: service) else { throw LiveChangeError.unreadableName(service) }
                try await reconciler.annotate(name, changes)
            } catch {
                overrides.annotations[service] = nil
                logger.warning("a saved annotation change no longer applies; dropped", metadata: ["service": "\(service)", "error": "\(error)"])
            }
        }
    }

    func annotate(_ name: ServiceName, _ changes: [String: String?]) async throws -> ServiceSpec {
        let spec = try await reconciler.annotate(name, changes)
        var merged = overrides.annotations["\(name)"] ?? [:]
        for (key, value) in changes { merged[key] = .some(value) }
        overrides.annotations["\(name)"] = merged
        try await save()
        return spec
    }

    func setDrained(_ endpoint: SocketEndpoint, _ isDrained: Bool) async throws -> Bool {
        guard await reconciler.setDrained(endpoint, isDrained) else { return false }
        overrides.drained.removeAll { $0 == endpoint.description }
        if isDrained { overrides.drained.append(endpoint.description) }
        try await save()
        return true
    }

    private func save() async throws {
        guard let store else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try await store.put(key, value: Array(try encoder.encode(overrides)), lease: 0)
    }
}

/// A live change that cannot be made.
enum LiveChangeError: Error, CustomStringConvertible {
    case noSuchService(ServiceName)
    case unreadableName(String)

    var description: String {
        switch self {
        case .noSuchService(let name): "no service \(name) on this agent (list them with: interlink services)"
        case .unreadableName(let text): "\(text) is not NAMESPACE/NAME"
        }
    }
}
