/// A backend as the selection sees it: where it comes from and whether checks say it is up.
public struct BackendCandidate: Hashable, Sendable {
    public var backend: Backend
    public var isLocal: Bool
    /// False when an active or passive health check has marked the backend down.
    public var isHealthy: Bool
    /// Taken out of new traffic by an operator (`interlink drain backend`).
    public var isDrained: Bool
    /// Why its address must never be dialled (`BackendAddressPolicy`); nil when it may be.
    public var refusal: String?

    public init(backend: Backend, isLocal: Bool, isHealthy: Bool, isDrained: Bool = false, refusal: String? = nil) {
        self.backend = backend
        self.isLocal = isLocal
        self.isHealthy = isHealthy
        self.isDrained = isDrained
        self.refusal = refusal
    }

    /// Active or terminating, not marked down, not drained, not refused.
    var isUsable: Bool { backend.state != .maintenance && isHealthy && !isDrained && refusal == nil }
}

/// Why a backend takes no new connections right now.
public enum Ineligibility: String, Hashable, Sendable {
    case refusedAddress = "refused: this address is never dialled"
    case remoteOfNonGlobalService = "remote backend of a service that is not global here"
    case preferLocal = "affinity local: a healthy local backend exists"
    case preferRemote = "affinity remote: a healthy remote backend exists"
    case maintenance = "maintenance: not ready and not serving"
    case unhealthy = "marked down by health checks"
    case terminatingWithActivePeers = "terminating: used only when no active backend is left"
    case drained = "drained by an operator: interlink undrain backend ADDRESS puts it back"
}

/// The outcome of selection: for each candidate, eligible or the reason it is not.
public struct BackendSelection: Sendable {
    public var eligible: [Backend]
    public var verdicts: [(candidate: BackendCandidate, ineligibility: Ineligibility?)]
}

/// Computes which backends take new connections (DESIGN.md §3, Cilium's `selectbackends`).
///
/// - not global: local backends only;
/// - `none`: local and remote alike;
/// - `local`: local backends, remote ones only when no local backend is active and healthy;
/// - `remote`: remote backends, local ones only when no remote backend is healthy.
/// Among those, active backends are eligible; terminating ones only when no active one is.
/// A backend whose address is refused is never eligible and counts for no preference.
public func selectBackends(
    _ candidates: [BackendCandidate], isGlobal: Bool, affinity: ServiceAffinity
) -> BackendSelection {
    var preferenceVeto: (BackendCandidate) -> Ineligibility? = { _ in nil }
    if !isGlobal {
        preferenceVeto = { $0.isLocal ? nil : .remoteOfNonGlobalService }
    } else {
        switch affinity {
        case .none:
            break
        case .local:
            let localAlive = candidates.contains { $0.isLocal && $0.backend.state == .active && $0.isUsable }
            if localAlive { preferenceVeto = { $0.isLocal ? nil : .preferLocal } }
        case .remote:
            let remoteAlive = candidates.contains { !$0.isLocal && $0.isUsable }
            if remoteAlive { preferenceVeto = { $0.isLocal ? .preferRemote : nil } }
        }
    }

    var verdicts: [(candidate: BackendCandidate, ineligibility: Ineligibility?)] = candidates.map { candidate in
        if candidate.refusal != nil { return (candidate, .refusedAddress) }
        if let veto = preferenceVeto(candidate) { return (candidate, veto) }
        if candidate.backend.state == .maintenance { return (candidate, .maintenance) }
        if !candidate.isHealthy { return (candidate, .unhealthy) }
        if candidate.isDrained { return (candidate, .drained) }
        return (candidate, nil)
    }
    let anyActive = verdicts.contains { $0.ineligibility == nil && $0.candidate.backend.state == .active }
    if anyActive {
        for index in verdicts.indices where verdicts[index].ineligibility == nil && verdicts[index].candidate.backend.state == .terminating {
            verdicts[index].ineligibility = .terminatingWithActivePeers
        }
    }
    let eligible = verdicts.compactMap { $0.ineligibility == nil ? $0.candidate.backend : nil }
    return BackendSelection(eligible: eligible, verdicts: verdicts)
}
