import Foundation
import InterlinkAPI
import InterlinkCore
import InterlinkMesh
import Logging

/// Operator changes made through the API (`interlink apply`, `delete`, `annotate`, `drain`,
/// `undrain`), kept in this cluster's kvstore under `interlink/live/<cluster>` so that they
/// survive a restart. Without a kvstore (`--kvstore none`) they last until the agent stops,
/// and the API says so.
///
/// One change at a time, saved before it is live: each change is validated, then saved, then
/// applied, and the next one waits for it (`serialized`), so the saved state always equals
/// the live one and the API's answer is true. If applying fails after the save (a frontend
/// that cannot be bound), the previous state is saved back.
///
/// A change answers once the data plane runs on it (the route reconciler applied its revision).
///
/// Threading: an actor; its changes await the store and the route reconciler, so they run one
/// at a time through `serialized` rather than relying on the actor alone (it is re-entered at
/// each await).
actor LiveChanges {
    let writer: RoutingWriter
    let routes: RouteReconciler
    let store: (any KVStore)?
    let key: String
    let logger: Logger
    let cluster: ClusterName
    /// The agent's own manifest files.
    var base: ManifestSet
    /// How files are read (`--default-frontend`, `--strict`).
    let options: ManifestOptions
    var saved = Saved()
    /// What the store holds now, as last read or written (nil: not known yet).
    var inStore: Saved?
    /// The manifests in force: the agent's files, then the applied objects, minus deletions.
    var effective: ManifestSet
    /// The last reading of the agent's files (`--manifests` is watched), for `interlink status`.
    var filesStatus = FilesStatus()
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(writer: RoutingWriter, routes: RouteReconciler, store: (any KVStore)?, cluster: ClusterName, manifests: ManifestSet, options: ManifestOptions = ManifestOptions(), logger: Logger) {
        self.options = options
        self.writer = writer
        self.routes = routes
        self.store = store
        self.cluster = cluster
        self.base = manifests
        self.effective = manifests
        self.key = "interlink/live/\(cluster.rawValue)"
        self.logger = logger
    }

    nonisolated var isPersistent: Bool { store != nil }

    /// Runs `body` once every change before it has finished.
    func serialized<Result: Sendable>(_ body: () async throws -> Result) async throws -> Result {
        if busy {
            await withCheckedContinuation { waiting.append($0) }
        }
        busy = true
        defer {
            if waiting.isEmpty { busy = false } else { waiting.removeFirst().resume() }
        }
        return try await body()
    }

    /// What `apply` did to each service.
    /// Validates the files alone, then with the manifests in force; only if everything is
    /// valid is it saved and the services replaced (binding new frontends). A service in the
    /// files loses its earlier `annotate` changes: the applied manifest is its new truth.
    func apply(_ files: [File], strict: Bool = false) async throws -> (applied: [AppliedService], report: [String]) {
        try await serialized {
            var incoming = ManifestSet()
            var problems: [ManifestProblem] = []
            var next = saved
            var fileOptions = options
            fileOptions.strict = options.strict || strict
            for file in files {
                let (set, fileProblems) = ManifestParser.parse(yaml: file.yaml, file: file.name, options: fileOptions)
                incoming.merge(set)
                problems += fileProblems
                if fileProblems.isEmpty { next.record(set, parsedFrom: file.yaml) }
            }
            guard problems.isEmpty else { throw ManifestErrors(problems) }
            let manifests = effective.applying(incoming).stampingExports(previous: effective, now: ManifestLoader.nowText())
            let crossProblems = manifests.crossDocumentProblems()
            guard crossProblems.isEmpty else { throw ManifestErrors(crossProblems) }
            let names = incoming.services.map(\.value.name)
            let result = names.map { AppliedService(service: "\($0)", action: effective.hasService($0) ? "configured" : "created") }
            try await commit(next, manifests: manifests, reason: "applied \(files.map(\.name).joined(separator: ", "))")
            return (result, incoming.readingReport())
        }
    }

    /// Removes a service and its EndpointSlices; its frontend stops listening (open
    /// connections go on).
    func delete(_ name: ServiceName) async throws {
        try await serialized {
            guard effective.hasService(name) else { throw LiveChangeError.noSuchService(name) }
            var next = saved
            let slices = effective.slices.filter { $0.value.service == name }.map(\.value.name)
            next.remove(name, slices: slices, tombstone: base.hasService(name))
            try await commit(next, manifests: effective.removingService(name), reason: "deleted \(name)")
        }
    }

    func annotate(_ name: ServiceName, _ changes: [String: String?]) async throws -> ServiceSpec {
        try await serialized {
            guard let current = writer.current.spec(of: name) else { throw LiveChangeError.noSuchService(name) }
            let spec = try current.annotated(changes)  // validates; throws before anything is saved
            let previous = saved
            var next = saved
            var merged = next.annotations["\(name)"] ?? [:]
            for (key, value) in changes { merged[key] = .some(value) }
            next.annotations["\(name)"] = merged
            try await save(next)
            saved = next
            do {
                let (applied, revision) = try writer.annotate(name, changes)
                assert(applied == spec)
                await routes.waitApplied(revision)
                return applied
            } catch {
                saved = previous
                await saveBack("annotate \(name)")
                throw error
            }
        }
    }

    func setDrained(_ endpoint: SocketEndpoint, _ isDrained: Bool) async throws -> Bool {
        try await serialized {
            guard writer.current.servesBackend(endpoint) else { return false }
            var next = saved
            next.drained.removeAll { $0 == endpoint.description }
            if isDrained { next.drained.append(endpoint.description) }
            try await save(next)
            saved = next
            if let revision = writer.setDrained(endpoint, isDrained) { await routes.waitApplied(revision) }
            return true
        }
    }

    /// Saves `next`, binds the new frontends, then makes `manifests` the services in force and
    /// puts the `annotate` changes back on; if a frontend cannot be bound, nothing changes and
    /// the previous state is saved back.
    func commit(_ next: Saved, manifests: ManifestSet, reason: String) async throws {
        let previous = saved
        try await save(next)
        saved = next
        do {
            try await install(manifests, reason: reason)
        } catch {
            saved = previous
            await saveBack(reason)
            throw error
        }
    }

    /// Binds the new frontends, then makes `manifests` the services in force and puts the
    /// `annotate` changes back on. Throws, changing nothing, if a frontend cannot be bound.
    func install(_ manifests: ManifestSet, reason: String) async throws {
        let services = manifests.localServices(cluster: cluster)
        try await routes.prepare(services)
        writer.replaceServices(services, reason: reason)
        effective = manifests
        await reapplyAnnotations()
        await routes.settle()
    }

    /// After the services were rebuilt from manifests (or at start), the `annotate` changes go
    /// back on; one that no longer applies (service gone, value now invalid) is dropped and
    /// the state saved without it.
    func reapplyAnnotations() async {
        var dropped = false
        for (service, changes) in saved.annotations.sorted(by: { $0.key < $1.key }) {
            do {
                guard let name = ServiceName(parsing: service) else { throw LiveChangeError.unreadableName(service) }
                try writer.annotate(name, changes)
            } catch {
                saved.annotations[service] = nil
                dropped = true
                logger.warning("a saved annotation change no longer applies; dropped", metadata: ["service": "\(service)", "error": "\(error)"])
            }
        }
        if dropped { try? await save(saved) }
    }

    /// Writes `state`, unless the store holds it already (a no-op change writes nothing).
    func save(_ state: Saved) async throws {
        guard let store, state != inStore else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do {
            try await store.put(key, value: Array(try encoder.encode(state)), lease: 0)
            inStore = state
        } catch {
            throw LiveChangeError.notSaved("\(error)")
        }
    }

    /// Writes `saved` again after a change failed past its save; logs if even that fails.
    private func saveBack(_ change: String) async {
        do {
            try await save(saved)
        } catch {
            logger.error("a failed change could not be taken back from the saved state; it applies at the next restart", metadata: [
                "change": "\(change)", "error": "\(error)",
            ])
        }
    }
}

/// A live change that cannot be made.
enum LiveChangeError: Error, CustomStringConvertible {
    case noSuchService(ServiceName)
    case unreadableName(String)
    case notSaved(String)
    case noOverrides(ServiceName)

    var description: String {
        switch self {
        case .noSuchService(let name): "no service \(name) on this agent (list them with: interlink services)"
        case .unreadableName(let text): "\(text) is not NAMESPACE/NAME"
        case .notSaved(let reason): "nothing changed: the change could not be saved in this cluster's store (\(reason)); try again once it is reachable"
        case .noOverrides(let name): "service \(name) has no live changes to revert: it is as the manifest files define it (see: interlink status)"
        }
    }
}
