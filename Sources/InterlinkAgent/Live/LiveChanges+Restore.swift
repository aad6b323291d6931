import Foundation
import InterlinkCore

extension LiveChanges {
    /// Reads the saved changes and applies them, before any API change; one that no longer
    /// applies (objects that conflict with the agent's files, a service gone, an annotation now
    /// invalid) is logged and dropped. Retries while the store is unreachable.
    func restore() async {
        guard let store else { return }
        var delay = Duration.milliseconds(200)
        while !Task.isCancelled {
            do {
                try await serialized {
                    guard let value = try await store.range(key, prefix: false, revision: 0).kvs.first?.value else { return }
                    let stored = try JSONDecoder().decode(Saved.self, from: Data(value))
                    inStore = stored.legacyApplied.isEmpty ? stored : nil  // the old form is always written back
                    try await restore(stored)
                }
                return
            } catch {
                logger.warning("cannot read the saved live changes yet; retrying", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
            }
        }
    }

    private func restore(_ stored: Saved) async throws {
        var state = Saved()
        var manifests = base
        // What earlier versions saved: files in the order they were applied.
        for file in stored.legacyApplied {
            let (set, problems) = ManifestParser.parse(yaml: file.yaml, file: file.name, options: options)
            guard problems.isEmpty else {
                logger.warning("a saved manifest no longer parses; dropped", metadata: ["file": "\(file.name)"])
                continue
            }
            manifests = manifests.applying(set)
            state.record(set, parsedFrom: file.yaml)
        }
        if !stored.objects.isEmpty {
            let (set, problems) = ManifestParser.parse(yaml: stored.objectsYAML, file: key, options: options)
            if problems.isEmpty {
                manifests = manifests.applying(set)
                state.objects.merge(stored.objects) { _, saved in saved }
            } else {
                logger.warning("saved objects no longer parse; dropped", metadata: ["problems": "\(problems.count)", "first": "\(problems[0])"])
            }
        }
        for service in stored.deleted {
            guard let name = ServiceName(parsing: service), manifests.hasService(name) else { continue }
            let slices = manifests.slices.filter { $0.value.service == name }.map(\.value.name)
            manifests = manifests.removingService(name)
            state.remove(name, slices: slices, tombstone: base.hasService(name))
        }
        manifests = manifests.stampingExports(previous: effective, now: ManifestLoader.nowText())
        if !state.objects.isEmpty || !state.deleted.isEmpty {
            if manifests.crossDocumentProblems().isEmpty {
                try await routes.prepare(manifests.localServices(cluster: cluster))
                writer.replaceServices(manifests.localServices(cluster: cluster), reason: "saved live changes restored")
                effective = manifests
            } else {
                logger.error("the saved manifests conflict with the agent's files; not restored", metadata: ["problems": "\(manifests.crossDocumentProblems().count)"])
                state.objects = [:]
                state.deleted = []
            }
        }
        state.annotations = stored.annotations
        saved = state
        await reapplyAnnotations()
        for address in stored.drained {
            if let endpoint = SocketEndpoint(address), writer.setDrained(endpoint, true, evenIfUnknown: true) != nil {
                saved.drained.append(address)
            }
        }
        try? await save(saved)
        logger.info("live changes restored", metadata: [
            "objects": "\(saved.objects.count)", "services": "\(saved.annotations.count)", "drained": "\(saved.drained.count)",
        ])
    }
}
