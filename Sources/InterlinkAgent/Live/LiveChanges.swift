import Foundation
import InterlinkCore
import InterlinkMesh
import Logging

/// Operator changes made through the API (`interlink annotate`, `drain`, `undrain`), applied
/// to the reconciler and kept in this cluster's kvstore under `interlink/live/<cluster>` so
/// that they survive a restart. Without a kvstore (`--kvstore none`) they last until the
/// agent stops, and the API says so.
///
/// Threading: an actor; changes are applied and saved one at a time.
actor LiveChanges {
    /// What is saved: per service the annotation changes (nil removes), and drained backends.
    struct Overrides: Codable, Equatable {
        var annotations: [String: [String: String?]] = [:]
        var drained: [String] = []
    }

    let reconciler: Reconciler
    let store: (any KVStore)?
    let key: String
    let logger: Logger
    private var overrides = Overrides()

    init(reconciler: Reconciler, store: (any KVStore)?, cluster: ClusterName, logger: Logger) {
        self.reconciler = reconciler
        self.store = store
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
                for (service, changes) in saved.annotations.sorted(by: { $0.key < $1.key }) {
                    guard let name = ServiceName(parsing: service) else { continue }
                    do {
                        try await reconciler.annotate(name, changes)
                        overrides.annotations[service] = changes
                    } catch {
                        logger.warning("a saved annotation change no longer applies; dropped", metadata: ["service": "\(service)", "error": "\(error)"])
                    }
                }
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

    var description: String {
        switch self {
        case .noSuchService(let name): "no service \(name) on this agent (list them with: interlink services)"
        }
    }
}
