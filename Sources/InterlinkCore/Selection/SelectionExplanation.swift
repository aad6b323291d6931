/// One backend as an explanation sees it.
public struct ExplainedBackend: Hashable, Sendable {
    public var cluster: String
    public var isLocal: Bool
    public var state: BackendState
    /// False when health checks (or a failed dial) marked it down.
    public var isHealthy: Bool
    public var isEligible: Bool
    public var isDrained: Bool
    /// Its address is never dialled (`BackendAddressPolicy`).
    public var isRefused: Bool

    public init(cluster: String, isLocal: Bool, state: BackendState, isHealthy: Bool, isEligible: Bool, isDrained: Bool = false, isRefused: Bool = false) {
        self.isDrained = isDrained
        self.isRefused = isRefused
        self.cluster = cluster
        self.isLocal = isLocal
        self.state = state
        self.isHealthy = isHealthy
        self.isEligible = isEligible
    }
}

/// Says in a sentence or two why a frontend's eligible backends are what they are, e.g.
/// `affinity=local: east has 0 of 3 backends healthy (2 failed health checks, 1 terminating),
/// so new connections go to west (2 healthy) and north (3 healthy).` Pure.
public func explainSelection(localCluster: String, isGlobal: Bool, affinity: ServiceAffinity, backends: [ExplainedBackend]) -> String {
    struct Tally {
        var name: String
        var total = 0, healthy = 0, eligible = 0, down = 0, terminating = 0, maintenance = 0, drained = 0, refused = 0

        /// `east has 0 of 3 backends healthy (2 failed health checks, 1 terminating)`
        var health: String {
            var notes: [String] = []
            if down > 0 { notes.append("\(down) failed health checks") }
            if terminating > 0 { notes.append("\(terminating) terminating") }
            if maintenance > 0 { notes.append("\(maintenance) in maintenance") }
            if drained > 0 { notes.append("\(drained) drained") }
            if refused > 0 { notes.append("\(refused) refused: address never dialled") }
            let detail = notes.isEmpty ? "" : " (\(notes.joined(separator: ", ")))"
            return "\(name) has \(healthy) of \(total) backend\(total == 1 ? "" : "s") healthy\(detail)"
        }
        var offer: String { "\(name) (\(eligible) healthy)" }
        var ratio: String { "\(name) \(healthy) of \(total)" }
    }
    var byCluster: [String: Tally] = [:]
    for backend in backends {
        var tally = byCluster[backend.cluster] ?? Tally(name: backend.cluster)
        tally.total += 1
        if backend.isEligible { tally.eligible += 1 }
        if backend.isRefused {
            tally.refused += 1
        } else if !backend.isHealthy {
            tally.down += 1
        } else if backend.isDrained {
            tally.drained += 1
        } else {
            switch backend.state {
            case .active: tally.healthy += 1
            case .terminating: tally.terminating += 1
            case .maintenance: tally.maintenance += 1
            }
        }
        byCluster[backend.cluster] = tally
    }
    let local = byCluster[localCluster] ?? Tally(name: localCluster)
    let remotes = byCluster.values.filter { $0.name != localCluster }.sorted { $0.name < $1.name }
    let eligibleRemotes = remotes.filter { $0.eligible > 0 }
    func list(_ items: [String]) -> String {
        items.count <= 1 ? items.joined() : items.dropLast().joined(separator: ", ") + " and " + items.last!
    }

    guard isGlobal else {
        let ignored = remotes.isEmpty ? "" : " Backends that \(list(remotes.map(\.name))) \(remotes.count == 1 ? "exports" : "export") for it are ignored: mark it global to use them."
        return "not global: new connections use only \(localCluster)'s backends; \(local.health).\(ignored)"
    }
    let prefix = "affinity=\(affinity.rawValue)"
    guard local.eligible > 0 || !eligibleRemotes.isEmpty else {
        return "\(prefix): no cluster has a backend that can take connections (\(list(([local] + remotes).map(\.ratio)))), so new connections are refused."
    }
    switch affinity {
    case .none:
        let offers = ([local] + remotes).filter { $0.eligible > 0 }.map(\.offer)
        return "\(prefix): new connections spread over every healthy backend: \(list(offers))."
    case .local:
        if local.eligible > 0 {
            let standby = remotes.filter { $0.healthy + $0.terminating > 0 }
            let failover = standby.isEmpty ? "" : "; \(list(standby.map(\.name))) \(standby.count == 1 ? "takes" : "take") over if none is left"
            return "\(prefix): \(local.health), so new connections stay in \(localCluster)\(failover)."
        }
        return "\(prefix): \(local.health), so new connections go to \(list(eligibleRemotes.map(\.offer)))."
    case .remote:
        if !eligibleRemotes.isEmpty {
            return "\(prefix): new connections go to \(list(eligibleRemotes.map(\.offer))); \(localCluster) takes them only if no remote backend is healthy."
        }
        let none = remotes.isEmpty ? "no remote cluster offers this service" : "no remote cluster has a healthy backend (\(list(remotes.map(\.ratio))))"
        return "\(prefix): \(none), so new connections stay in \(local.offer)."
    }
}
