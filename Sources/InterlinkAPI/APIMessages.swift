/// The request and answer bodies of the agent's mutating API calls, shared by the server
/// (`InterlinkAgent`) and the CLI. Field names are API: change them only compatibly.

/// `POST /v1/services/NS/NAME/annotations`: keys to set and keys to remove.
public struct AnnotateRequest: Codable, Sendable {
    public var set: [String: String]?
    public var remove: [String]?

    public init(set: [String: String]? = nil, remove: [String]? = nil) {
        self.set = set
        self.remove = remove
    }
}

/// The service's annotations after the change; `persisted`: saved in the cluster's store.
public struct AnnotateAnswer: Codable, Sendable {
    public var service: String
    public var annotations: [String: String]
    public var persisted: Bool

    public init(service: String, annotations: [String: String], persisted: Bool) {
        self.service = service
        self.annotations = annotations
        self.persisted = persisted
    }
}

/// A manifest file of `POST /v1/manifests`.
public struct ManifestFile: Codable, Hashable, Sendable {
    public var name: String
    public var yaml: String

    public init(name: String, yaml: String) {
        self.name = name
        self.yaml = yaml
    }
}

public struct ApplyRequest: Codable, Sendable {
    public var files: [ManifestFile]
    /// Refuse objects that would be skipped (`interlink apply --strict`); the agent's own
    /// `--strict` refuses them anyway.
    public var strict: Bool?

    public init(files: [ManifestFile], strict: Bool? = nil) {
        self.files = files
        self.strict = strict
    }
}

/// What `POST /v1/manifests` did to each service: `created` or `configured`.
public struct AppliedService: Codable, Hashable, Sendable {
    public var service: String
    public var action: String

    public init(service: String, action: String) {
        self.service = service
        self.action = action
    }
}

public struct ApplyAnswer: Codable, Sendable {
    public var applied: [AppliedService]
    /// What was read and left out, and notes, one line each (`interlink validate` prints the same).
    public var report: [String]?

    public init(applied: [AppliedService], report: [String]? = nil) {
        self.applied = applied
        self.report = report
    }
}

/// `POST /v1/clusters`: connect to a remote cluster's store.
public struct ConnectRequest: Codable, Sendable {
    public var name: String
    public var endpoints: [String]

    public init(name: String, endpoints: [String]) {
        self.name = name
        self.endpoints = endpoints
    }
}

public struct ConnectAnswer: Codable, Sendable {
    public var connecting: String

    public init(connecting: String) { self.connecting = connecting }
}

public struct DisconnectAnswer: Codable, Sendable {
    public var disconnecting: String

    public init(disconnecting: String) { self.disconnecting = disconnecting }
}

public struct DeleteAnswer: Codable, Sendable {
    public var deleted: String

    public init(deleted: String) { self.deleted = deleted }
}

/// `POST /v1/services/NS/NAME/revert`: the service's live changes are dropped.
public struct RevertAnswer: Codable, Sendable {
    public var reverted: String

    public init(reverted: String) { self.reverted = reverted }
}

/// `POST /v1/backends/drain` and `/v1/backends/undrain`.
public struct DrainRequest: Codable, Sendable {
    public var address: String

    public init(address: String) { self.address = address }
}

public struct DrainAnswer: Codable, Sendable {
    public var backend: String
    /// `drained` or `in rotation`.
    public var state: String
    /// `yes`, or why not.
    public var persisted: String

    public init(backend: String, state: String, persisted: String) {
        self.backend = backend
        self.state = state
        self.persisted = persisted
    }
}

/// The body of every 4xx and 5xx answer (Hummingbird's `HTTPError`).
public struct APIErrorBody: Codable, Sendable {
    public struct Detail: Codable, Sendable {
        public var message: String
    }

    public var error: Detail
}

/// One change of the routing, as `GET /v1/events` and `lastChange` in `/v1/services` give it.
public struct ChangeEvent: Codable, Sendable, Hashable {
    /// Increases by one per event; ask for `?since=` the last one seen.
    public var sequence: Int
    /// Wall-clock time with microseconds, RFC 3339.
    public var time: String
    /// Seconds since 1970, for arithmetic.
    public var timestamp: Double
    /// health, remote-update, remote-removed, ejection.
    public var kind: String
    public var service: String?
    public var cluster: String?
    public var backend: String?
    public var detail: String

    public init(
        sequence: Int, time: String, timestamp: Double, kind: String, service: String?, cluster: String?, backend: String?, detail: String
    ) {
        self.sequence = sequence
        self.time = time
        self.timestamp = timestamp
        self.kind = kind
        self.service = service
        self.cluster = cluster
        self.backend = backend
        self.detail = detail
    }
}
