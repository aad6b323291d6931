import InterlinkCore
import InterlinkMesh

/// The changes sources make, as pure mutations. `RoutingWriter` runs each with the revision
/// already advanced, so that the services a change touches are marked with it.
extension RoutingState {
    /// Marks a service's routing inputs changed at this revision; `urgent` changes reach the
    /// data plane without coalescing.
    mutating func touch(_ name: ServiceName, urgent: Bool = true) {
        serviceRevisions[name] = revision
        lastChangeRevision = revision
        if urgent { urgentRevision = revision }
    }

    mutating func touchEveryService() {
        everyServiceRevision = revision
        lastChangeRevision = revision
        urgentRevision = revision
    }

    /// Replaces the local services (`interlink apply` / `delete`, restored live changes).
    mutating func replaceServices(_ next: [LocalService], reason: String) {
        let before = Dictionary(services.map { ($0.spec.name, $0) }, uniquingKeysWith: { first, _ in first })
        services = next
        refreshAddressPolicy()
        adoptHealth()
        let after = Set(next.map(\.spec.name))
        for service in next where before[service.spec.name] != service { touch(service.spec.name) }
        for name in before.keys where !after.contains(name) {
            serviceRevisions[name] = nil
        }
        for key in ejectedUntil.keys where !after.contains(key.service) { ejectedUntil[key] = nil }
        touchEveryService()  // frontends came or went: the address policy changed for all
        changes.record("apply", detail: reason)
    }

    /// Changes a service's annotations (a nil value removes one); throws, changing nothing,
    /// when the result is not valid. A changed check (kind, rise, fall) restarts its backends'
    /// health, keeping a down backend down.
    mutating func annotate(_ name: ServiceName, _ annotations: [String: String?]) throws -> ServiceSpec {
        guard let index = services.firstIndex(where: { $0.spec.name == name }) else { throw LiveChangeError.noSuchService(name) }
        let next = try services[index].spec.annotated(annotations)
        let before = services[index].spec
        services[index].spec = next
        if !annotations.isEmpty { changes.record("annotate", service: "\(name)", detail: Self.summary(of: annotations)) }
        if before.healthCheck.kind != next.healthCheck.kind || before.healthCheck.rise != next.healthCheck.rise || before.healthCheck.fall != next.healthCheck.fall {
            for port in services[index].ports {
                for backend in port.backends {
                    let key = BackendKey(service: name, endpoint: backend.endpoint)
                    var state = BackendHealth(rise: next.healthCheck.rise, fall: next.healthCheck.fall)
                    if let previous = health[key], !previous.isUp { _ = state.handle(.passiveFailure(reason: previous.lastFailure ?? "down before the change")) }
                    health[key] = state
                }
            }
        }
        touch(name)
        return next
    }

    static func summary(of annotations: [String: String?]) -> String {
        annotations.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value ?? "(removed)")" }.joined(separator: ", ")
    }

    /// Takes a backend (by address) out of new traffic, or puts it back; false (and no change)
    /// when no service has it, unless `evenIfUnknown` (saved drains restored at start, before
    /// remote clusters are connected).
    mutating func setDrained(_ endpoint: SocketEndpoint, _ isDrained: Bool, evenIfUnknown: Bool) -> Bool {
        let affected = services(serving: endpoint)
        guard !affected.isEmpty || evenIfUnknown else { return false }
        if isDrained { drained.insert(endpoint) } else { drained.remove(endpoint) }
        lastChangeRevision = revision
        // One event per service it serves, so that `explain` of each says since when.
        let kind = isDrained ? "drain" : "undrain"
        let detail = isDrained ? "taken out of new traffic by an operator" : "back in rotation"
        if affected.isEmpty { changes.record(kind, backend: "\(endpoint)", detail: detail) }
        for service in affected {
            changes.record(kind, service: "\(service.spec.name)", backend: "\(endpoint)", detail: detail)
            touch(service.spec.name)
        }
        return true
    }

    /// What a health event did.
    enum HealthOutcome: Equatable {
        case unchanged
        case wentDown(reason: String)
        case wentUp
        /// A remote backend's dial failed: out of rotation until the instant given.
        case ejected(until: ContinuousClock.Instant)
    }

    /// Applies a health event to a backend of a service. A passive failure of a remote backend
    /// ejects it for `remoteEjection`; with active checks off a passive failure changes nothing
    /// (nothing would bring the backend back).
    mutating func record(_ event: BackendHealth.Event, for key: BackendKey, now: ContinuousClock.Instant) -> HealthOutcome {
        guard let service = services.first(where: { $0.spec.name == key.service }) else { return .unchanged }
        guard var state = health[key] else {
            guard case .passiveFailure(let reason) = event, isRemoteBackend(key, of: service) else { return .unchanged }
            for (ejected, until) in ejectedUntil where until <= now { ejectedUntil[ejected] = nil }
            let until = now + Self.remoteEjection
            ejectedUntil[key] = until
            changes.record("ejection", service: "\(key.service)", backend: "\(key.endpoint)", detail: "\(reason); out of rotation for \(Self.remoteEjection)")
            touch(key.service)
            return .ejected(until: until)
        }
        if case .passiveFailure = event, service.spec.healthCheck.kind == .none { return .unchanged }
        let transition = state.handle(event)
        health[key] = state
        switch transition {
        case nil:
            return .unchanged
        case .wentDown:
            let reason = state.lastFailure ?? "unknown"
            changes.record("health", service: "\(key.service)", cluster: "\(cluster)", backend: "\(key.endpoint)", detail: "down: \(reason)")
            touch(key.service)
            return .wentDown(reason: reason)
        case .wentUp:
            changes.record("health", service: "\(key.service)", cluster: "\(cluster)", backend: "\(key.endpoint)", detail: "up")
            touch(key.service)
            return .wentUp
        }
    }

    /// Replaces what a connected cluster exports; marks (not urgent: coalesced) and records
    /// the local services whose share from that cluster changed.
    mutating func updateRemote(_ cache: RemoteServiceCache) {
        let previous = remotes[cache.cluster]?.services ?? [:]
        let previousExports = remotes[cache.cluster]?.exports ?? [:]
        remotes[cache.cluster] = cache
        lastChangeRevision = revision  // its status (invalid entries) is shown even when no service changed
        for service in services where service.spec.export != nil && previousExports[service.spec.name] != cache.exports[service.spec.name] {
            touch(service.spec.name)  // the cluster set's ports, and so which backends serve them, may have changed
        }
        remoteChanged(from: previous, to: cache.services, cluster: cache.cluster, kind: "remote-update")
    }

    /// Forgets a disconnected cluster: its backends leave every service. False if it was not known.
    mutating func removeRemote(_ cluster: ClusterName) -> Bool {
        guard let previous = remotes.removeValue(forKey: cluster) else { return false }
        lastChangeRevision = revision
        for service in services where previous.exports[service.spec.name] != nil { touch(service.spec.name) }
        remoteChanged(from: previous.services, to: [:], cluster: cluster, kind: "remote-removed")
        return true
    }

    private mutating func remoteChanged(from old: [ServiceName: RemoteService], to new: [ServiceName: RemoteService], cluster remote: ClusterName, kind: String) {
        func count(_ entry: RemoteService?) -> Int {
            guard let entry, entry.isShared else { return 0 }
            return Set(entry.backends.values.flatMap { $0.map(\.endpoint) }).count
        }
        for service in services where old[service.spec.name] != new[service.spec.name] {
            let name = service.spec.name
            changes.record(kind, service: "\(name)", cluster: "\(remote)", detail: "\(remote) now offers \(count(new[name])) backends (was \(count(old[name])))")
            touch(name, urgent: false)
        }
    }

    /// Adds a listener of the agent that backends must never be (the API or mesh port, once bound).
    mutating func addOwnListener(_ endpoint: SocketEndpoint, _ name: String) {
        addFixedListener(endpoint, name)
        touchEveryService()
    }
}
