/// How manifests are read, beyond their text: what the agent (or `validate`) was told.
public struct ManifestOptions: Hashable, Sendable {
    /// The frontend address of a Service that has neither `interlink.io/frontend` nor a
    /// `clusterIP` (`--default-frontend`), as in manifests written for a Kubernetes cluster.
    public var defaultFrontend: IPAddress?
    /// Objects Interlink does not serve (other kinds, headless and ExternalName Services, FQDN
    /// slices) are problems instead of being skipped (`--strict`).
    public var strict: Bool

    public init(defaultFrontend: IPAddress? = nil, strict: Bool = false) {
        self.defaultFrontend = defaultFrontend
        self.strict = strict
    }
}

/// An object of the manifests that Interlink read and left out, and why.
public struct SkippedObject: Hashable, Sendable {
    public var file: String
    public var document: Int
    /// The object's index in its document's `items` (a `List`), if any.
    public var item: Int?
    /// `Deployment`, `Service`, ...
    public var kind: String
    /// `name`, or `namespace/name` for a namespaced object that had one.
    public var name: String
    /// Why it was left out; nil for an object of a kind Interlink does not read at all.
    public var reason: String?

    public init(file: String, document: Int, item: Int? = nil, kind: String, name: String, reason: String?) {
        self.file = file
        self.document = document
        self.item = item
        self.kind = kind
        self.name = name
        self.reason = reason
    }

    /// The kinds Interlink reads, as the skip summary names them.
    public static let readKinds = "Interlink reads Service, EndpointSlice and ServiceExport"
}

/// A `multicluster.x-k8s.io` ServiceExport (v1alpha1 or v1beta1): exports the Service of the
/// same namespace and name to the cluster set (KEP-1645).
public struct ServiceExportSpec: Hashable, Sendable {
    public var name: ServiceName
    /// `metadata.creationTimestamp` as written (RFC 3339), if any: the oldest export wins a
    /// conflict. Without one, the agent uses the time it first exported the service.
    public var creationTimestamp: String?
    /// `spec.exportedLabels` and `spec.exportedAnnotations`: copied to the cluster set.
    public var exportedLabels: [String: String]
    public var exportedAnnotations: [String: String]

    public init(name: ServiceName, creationTimestamp: String? = nil, exportedLabels: [String: String] = [:], exportedAnnotations: [String: String] = [:]) {
        self.name = name
        self.creationTimestamp = creationTimestamp
        self.exportedLabels = exportedLabels
        self.exportedAnnotations = exportedAnnotations
    }
}
