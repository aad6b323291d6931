import InterlinkCore
import Logging

/// Operator changes to the routing: annotations and drains (`LiveChanges` saves them).
extension Reconciler {
    /// The spec of a local service, nil if there is none.
    public func spec(of name: ServiceName) -> ServiceSpec? {
        services.first { $0.spec.name == name }?.spec
    }

    /// Whether `endpoint` is a backend, local or remote, of some service here.
    public func servesBackend(_ endpoint: SocketEndpoint) -> Bool {
        !services(serving: endpoint).isEmpty
    }

    private func services(serving endpoint: SocketEndpoint) -> [LocalService] {
        services.filter { service in
            service.ports.contains { port in
                port.backends.contains { $0.endpoint == endpoint } || remoteBackends(of: service, port: port).contains { $0.endpoint == endpoint }
            }
        }
    }

    /// Changes a service's annotations (a nil value removes one); republishes its routes and
    /// re-exports. Throws, changing nothing, when the result is not valid.
    @discardableResult
    public func annotate(_ name: ServiceName, _ changes: [String: String?]) throws -> ServiceSpec {
        guard let index = services.firstIndex(where: { $0.spec.name == name }) else { throw LiveChangeError.noSuchService(name) }
        let next = try services[index].spec.annotated(changes)
        let before = services[index].spec
        services[index].spec = next
        let summary = changes.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value ?? "(removed)")" }.joined(separator: ", ")
        if !changes.isEmpty { self.changes.record("annotate", service: "\(name)", detail: summary) }
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
        logger.info("service annotated", metadata: ["service": "\(name)", "changes": "\(summary)"])
        proxy.publish(routes(of: services[index]))
        exportNotifier?.yield()
        return next
    }

    /// Takes a backend (by address) out of new traffic, or puts it back; true when the address
    /// is a backend of some service here. Open connections are left alone. `evenIfUnknown`
    /// (restoring saved drains at start, before remote clusters are connected) drains an
    /// address no service has yet.
    @discardableResult
    public func setDrained(_ endpoint: SocketEndpoint, _ isDrained: Bool, evenIfUnknown: Bool = false) -> Bool {
        let affected = services(serving: endpoint)
        guard !affected.isEmpty || evenIfUnknown else { return false }
        if isDrained { drained.insert(endpoint) } else { drained.remove(endpoint) }
        // One event per service it serves, so that `explain` of each says since when.
        let kind = isDrained ? "drain" : "undrain"
        let detail = isDrained ? "taken out of new traffic by an operator" : "back in rotation"
        if affected.isEmpty { changes.record(kind, backend: "\(endpoint)", detail: detail) }
        for service in affected {
            changes.record(kind, service: "\(service.spec.name)", backend: "\(endpoint)", detail: detail)
            proxy.publish(routes(of: service))
        }
        exportNotifier?.yield()
        return true
    }
}
