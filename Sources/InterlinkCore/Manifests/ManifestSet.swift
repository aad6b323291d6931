/// The Services, EndpointSlices and ServiceExports read from a set of manifests, validated as
/// a whole, with what was read and left out (`skipped`) and remarks (`notes`).
public struct ManifestSet: Hashable, Sendable {
    public struct Located<Value: Hashable & Sendable>: Hashable, Sendable {
        public var value: Value
        public var file: String
        public var document: Int
        /// The object's index in its document's `items` (a `List`); nil for a document of its own.
        public var item: Int?
    }

    public private(set) var services: [Located<ServiceSpec>] = []
    public private(set) var slices: [Located<EndpointSliceSpec>] = []
    public internal(set) var exports: [Located<ServiceExportSpec>] = []
    /// Objects read and left out: other kinds, headless and ExternalName Services, FQDN slices.
    public internal(set) var skipped: [SkippedObject] = []
    /// Remarks that change nothing, such as a LoadBalancer Service served as a ClusterIP one.
    public internal(set) var notes: [ManifestProblem] = []
    /// Services named in the manifests whose definition has problems: their slices' and
    /// exports' references are not reported again.
    var invalidServices: Set<ServiceName> = []

    public init() {}

    mutating func add(_ service: ServiceSpec, file: String, document: Int, item: Int?) {
        services.append(Located(value: service, file: file, document: document, item: item))
    }

    mutating func add(_ slice: EndpointSliceSpec, file: String, document: Int, item: Int?) {
        slices.append(Located(value: slice, file: file, document: document, item: item))
    }

    mutating func add(_ export: ServiceExportSpec, file: String, document: Int, item: Int?) {
        exports.append(Located(value: export, file: file, document: document, item: item))
    }

    public mutating func merge(_ other: ManifestSet) {
        services += other.services
        slices += other.slices
        exports += other.exports
        skipped += other.skipped
        notes += other.notes
        invalidServices.formUnion(other.invalidServices)
    }

    /// Problems that only show across documents: duplicate names, two services on one
    /// frontend, slices of unknown services, ports a slice cannot resolve, exports that
    /// contradict their Service's annotations.
    public func crossDocumentProblems() -> [ManifestProblem] {
        var problems: [ManifestProblem] = []
        var seenServices: [ServiceName: Located<ServiceSpec>] = [:]
        var seenFrontends: [Frontend: ServiceName] = [:]
        for located in services {
            let spec = located.value
            if let first = seenServices[spec.name] {
                problems.append(ManifestProblem(
                    file: located.file, document: located.document, field: "metadata.name",
                    message: "Service \(spec.name) is already defined in \(first.file) document \(first.document): names must be unique per namespace"))
                continue
            }
            seenServices[spec.name] = located
            for (index, port) in spec.ports.enumerated() {
                let frontend = Frontend(SocketEndpoint(ip: spec.clusterIP, port: port.port), port.transport)
                if let owner = seenFrontends[frontend] {
                    problems.append(ManifestProblem(
                        file: located.file, document: located.document, field: "spec.ports[\(index)].port",
                        message: "frontend \(frontend) is already used by Service \(owner): give each Service its own clusterIP:port (per protocol)"))
                }
                seenFrontends[frontend] = spec.name
            }
        }
        var seenSlices: Set<String> = []
        for located in slices {
            let slice = located.value
            let key = "\(slice.service.namespace)/\(slice.name)"
            if !seenSlices.insert(key).inserted {
                problems.append(ManifestProblem(
                    file: located.file, document: located.document, field: "metadata.name",
                    message: "EndpointSlice \(key) is defined twice: names must be unique per namespace"))
            }
            guard let service = seenServices[slice.service]?.value else {
                if skippedServices.contains(slice.service) || invalidServices.contains(slice.service) { continue }  // reported with its Service
                problems.append(ManifestProblem(
                    file: located.file, document: located.document,
                    field: "metadata.labels[\"kubernetes.io/service-name\"]",
                    message: "\(slice.service.name) names no Service in namespace \(slice.service.namespace): add the Service or fix the label"))
                continue
            }
            for port in service.ports where !slice.endpoints.isEmpty && slice.targetPort(for: port) == nil {
                let portLabel = port.name.isEmpty ? "the unnamed port" : "port '\(port.name)'"
                problems.append(ManifestProblem(
                    file: located.file, document: located.document, field: "ports",
                    message: "no port named '\(port.name)' for \(portLabel) of Service \(service.name) (targetPort \(port.targetPort)): name the EndpointSlice port like the Service port"))
            }
        }
        problems += exportProblems(services: seenServices)
        return problems
    }

    /// The backends of one port of a local service, from all its EndpointSlices. An address
    /// listed twice keeps its first entry.
    public func backends(of service: ServiceSpec, port: ServicePort, cluster: ClusterName) -> [Backend] {
        var result: [Backend] = []
        var seen: Set<SocketEndpoint> = []
        for located in slices where located.value.service == service.name {
            let slice = located.value
            guard let targetPort = slice.targetPort(for: port) else { continue }
            for endpoint in slice.endpoints {
                for address in endpoint.addresses {
                    let socket = SocketEndpoint(ip: address, port: targetPort)
                    guard seen.insert(socket).inserted else { continue }
                    result.append(Backend(
                        endpoint: socket, cluster: cluster, state: endpoint.state, zone: endpoint.zone, hostname: endpoint.hostname,
                        forZones: endpoint.forZones))
                }
            }
        }
        return result
    }
}

extension EndpointSliceSpec {
    /// The backend port for a Service port: the slice port of the same name, else the one
    /// named by `targetPort`, else a numeric `targetPort` when the slice lists no ports.
    public func targetPort(for port: ServicePort) -> UInt16? {
        if let number = ports[port.name] { return number }
        switch port.targetPort {
        case .name(let name): return ports[name]
        case .number(let number): return ports.isEmpty ? number : nil
        }
    }
}

extension ManifestSet {
    /// This set with `other`'s objects added; an object of `other` replaces the one of the same
    /// kind, namespace and name here (`interlink apply`).
    public func applying(_ other: ManifestSet) -> ManifestSet {
        var result = ManifestSet()
        let newServices = Set(other.services.map(\.value.name))
        let newSlices = Set(other.slices.map { "\($0.value.service.namespace)/\($0.value.name)" })
        let newExports = Set(other.exports.map(\.value.name))
        result.services = services.filter { !newServices.contains($0.value.name) } + other.services
        result.slices = slices.filter { !newSlices.contains("\($0.value.service.namespace)/\($0.value.name)") } + other.slices
        result.exports = exports.filter { !newExports.contains($0.value.name) } + other.exports
        // What was skipped stays known, so that the slices of a skipped Service stay skipped.
        result.skipped = skipped.filter { !($0.kind == "Service" && ServiceName(parsing: $0.name).map(newServices.contains) == true) } + other.skipped
        result.invalidServices = invalidServices.union(other.invalidServices)
        return result
    }

    /// This set without the Service `name` and its EndpointSlices (`interlink delete`).
    public func removingService(_ name: ServiceName) -> ManifestSet {
        var result = self
        result.services.removeAll { $0.value.name == name }
        result.slices.removeAll { $0.value.service == name }
        result.exports.removeAll { $0.value.name == name }
        return result
    }

    public func hasService(_ name: ServiceName) -> Bool {
        services.contains { $0.value.name == name }
    }
}
