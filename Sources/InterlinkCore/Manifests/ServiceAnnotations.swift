/// The annotations Interlink reads from a Service, with their legacy aliases and defaults.
public struct ServiceAnnotations: Hashable, Sendable {
    public static let global = "service.cilium.io/global"
    public static let globalLegacy = "io.cilium/global-service"
    public static let shared = "service.cilium.io/shared"
    public static let sharedLegacy = "io.cilium/shared-service"
    public static let affinity = "service.cilium.io/affinity"
    public static let affinityLegacy = "io.cilium/service-affinity"
    public static let algorithm = "service.cilium.io/lb-algorithm"
    public static let healthCheck = "interlink.io/health-check"
    public static let healthCheckPath = "interlink.io/health-check-path"
    public static let healthCheckInterval = "interlink.io/health-check-interval"
    public static let healthCheckTimeout = "interlink.io/health-check-timeout"
    public static let healthCheckRise = "interlink.io/health-check-rise"
    public static let healthCheckFall = "interlink.io/health-check-fall"
    public static let healthCheckPort = "interlink.io/health-check-port"
    public static let udpFlowTimeout = "interlink.io/udp-flow-timeout"
    /// The address the Service's ports listen on, instead of `spec.clusterIP` (read by the
    /// manifest parser; it cannot change with `annotate`).
    public static let frontend = "interlink.io/frontend"

    /// The annotations that say `"false"` to global or shared (the current name, else its legacy
    /// alias), which a ServiceExport contradicts: each as (field, value, what it denies).
    public static func exportContradictions(_ annotations: [String: String]) -> [(field: String, value: String, meaning: String)] {
        [(global, globalLegacy, "global"), (shared, sharedLegacy, "shared")].compactMap { key, legacy, meaning in
            let (field, value) = annotations[key].map { (key, $0) } ?? (legacy, annotations[legacy] ?? "")
            return value.lowercased().trimmingSpaces() == "false" ? (field, value, meaning) : nil
        }
    }

    public var isGlobal = false
    public var isShared = true
    public var affinity = ServiceAffinity.none
    public var algorithm = LoadBalancingAlgorithm.random
    public var healthCheck = HealthCheckSpec()
    /// Failover order, thresholds, spill, failback, weights and panic (`interlink.io/...`).
    public var routing = RoutingPolicy()
    public var udpFlowTimeout = ServiceSpec.defaultUDPFlowTimeout

    /// Parses the annotations; calls `report(field, value, message)` for each bad one and
    /// returns nil if there was any.
    public static func parse(_ annotations: [String: String], report: (String, String, String) -> Void) -> ServiceAnnotations? {
        var result = ServiceAnnotations()
        var valid = true
        func fail(_ field: String, _ value: String, _ message: String) {
            report(field, value.isEmpty ? "(empty)" : value, message)
            valid = false
        }
        /// The value under the current name or its legacy alias; both set differently is an error.
        func value(_ name: String, alias: String?) -> (field: String, value: String)? {
            let current = annotations[name]
            let legacy = alias.flatMap { annotations[$0] }
            if let current, let legacy, let alias, current.lowercased() != legacy.lowercased() {
                fail(name, current, "conflicts with \(alias): \(legacy): set only one of them")
                return nil
            }
            if let current { return (name, current) }
            if let legacy, let alias { return (alias, legacy) }
            return nil
        }
        func boolean(_ entry: (field: String, value: String)) -> Bool? {
            switch entry.value.lowercased().trimmingSpaces() {
            case "true": return true
            case "false": return false
            default:
                fail(entry.field, entry.value, "is not valid: expected \"true\" or \"false\"")
                return nil
            }
        }

        if let entry = value(global, alias: globalLegacy), let flag = boolean(entry) { result.isGlobal = flag }
        if let entry = value(shared, alias: sharedLegacy), let flag = boolean(entry) { result.isShared = flag }
        if let entry = value(affinity, alias: affinityLegacy) {
            // `none`, empty and absent mean the same (Cilium bug #46623 dropped remote backends on `none`).
            let normalised = entry.value.lowercased().trimmingSpaces()
            if normalised.isEmpty {
                result.affinity = .none
            } else if let parsed = ServiceAffinity(rawValue: normalised) {
                result.affinity = parsed
            } else {
                fail(entry.field, entry.value, "is not valid: expected local, remote or none")
            }
        }
        if let entry = value(algorithm, alias: nil) {
            let normalised = entry.value.lowercased().trimmingSpaces()
            if normalised.isEmpty {
                result.algorithm = .random
            } else if let parsed = LoadBalancingAlgorithm(rawValue: normalised) {
                result.algorithm = parsed
            } else {
                fail(entry.field, entry.value, "is not valid: expected random or maglev")
            }
        }

        var check = HealthCheckSpec()
        let path = annotations[healthCheckPath]
        if let kind = annotations[healthCheck] {
            switch kind.lowercased().trimmingSpaces() {
            case "tcp", "": check.kind = .tcp
            case "http": check.kind = .http(path: path ?? "/")
            case "none": check.kind = .none
            default: fail(healthCheck, kind, "is not valid: expected tcp, http or none")
            }
        }
        if let path {
            if case .http = check.kind {
                if !path.hasPrefix("/") { fail(healthCheckPath, path, "is not valid: expected a path starting with '/'") }
            } else {
                fail(healthCheckPath, path, "is set but \(healthCheck) is not http: set \(healthCheck): http or remove the path")
            }
        }
        func duration(_ name: String) -> Duration? {
            guard let text = annotations[name] else { return nil }
            do {
                let parsed = try DurationText.parse(text)
                guard parsed > .zero, parsed <= .seconds(3600) else {
                    fail(name, text, "is not valid: expected a duration above 0 and at most 1h")
                    return nil
                }
                return parsed
            } catch {
                fail(name, text, "is not valid: expected \(DurationText.allowed)")
                return nil
            }
        }
        func count(_ name: String) -> Int? {
            guard let text = annotations[name] else { return nil }
            guard let value = Int(text.trimmingSpaces()), (1...100).contains(value) else {
                fail(name, text, "is not valid: expected a whole number from 1 to 100")
                return nil
            }
            return value
        }
        if let interval = duration(healthCheckInterval) { check.interval = interval }
        if let timeout = duration(healthCheckTimeout) { check.timeout = timeout }
        if let rise = count(healthCheckRise) { check.rise = rise }
        if let fall = count(healthCheckFall) { check.fall = fall }
        if let text = annotations[healthCheckPort] {
            if let port = Int(text.trimmingSpaces()), (1...65535).contains(port) {
                check.port = UInt16(port)
            } else {
                fail(healthCheckPort, text, "is not valid: expected a port number from 1 to 65535")
            }
        }
        if let timeout = duration(udpFlowTimeout) { result.udpFlowTimeout = timeout }
        result.healthCheck = check
        result.routing = parseRouting(annotations, affinity: result.affinity, fail: fail)
        return valid ? result : nil
    }
}
