import Foundation
import InterlinkCore

extension ClusterService {
    /// The most backends (address and port pairs) one remote entry may list; a larger entry is
    /// skipped as invalid. Kubernetes caps a Service at 1,000 endpoints per EndpointSlice;
    /// a cluster exporting more than this for one service is broken or hostile.
    public static let maximumBackends = 10_000

    /// Decodes a value read under `key` from the store of `cluster` (ID `clusterID`) and checks
    /// it as Cilium does: JSON read by Go's rules, the `cluster` field naming that cluster,
    /// namespace and name equal to the key's, the cluster ID, every frontend and backend key an
    /// IP without zone; then every port. Ports other than TCP and UDP are left out. Whether the entry is used
    /// is decided by `shared` and the local Service, not by `includeExternal`.
    public static func decodeValidated(
        _ value: [UInt8], key: String, cluster: ClusterName, clusterID: ClusterID
    ) throws(InvalidRemoteEntry) -> RemoteService {
        func invalid(_ reason: String) -> InvalidRemoteEntry { InvalidRemoteEntry(key: key, reason: reason) }
        guard let parsedKey = KVStoreKeys.parseService(key) else {
            throw invalid("not a service key: expected \(KVStoreKeys.servicesRoot)/<cluster>/<namespace>/<name>")
        }
        let entry: ClusterService
        do {
            entry = try JSONDecoder().decode(ClusterService.self, from: Data(value))
        } catch {
            throw invalid("not a ClusterService JSON value: \(Self.describe(error))")
        }
        try checkIdentity(cluster: entry.cluster, namespace: entry.namespace, name: entry.name, key: parsedKey, readFrom: cluster, key: key)
        guard entry.clusterID == UInt32(clusterID.rawValue) else {
            throw invalid("has clusterID \(entry.clusterID) but cluster \(cluster) has ID \(clusterID)")
        }
        let listed = entry.backends.values.reduce(0) { $0 + $1.count }
        guard listed <= maximumBackends else {
            throw invalid("lists \(listed) backends, more than the limit of \(maximumBackends) per service")
        }
        for address in entry.frontends.keys.sorted() {
            if let problem = Self.addressProblem(address) { throw invalid("frontends key '\(address)' \(problem)") }
        }
        var backends: [String: [Backend]] = [:]
        var transports: [String: TransportProtocol] = [:]
        for (ipText, ports) in entry.backends.sorted(by: { $0.key < $1.key }) {
            if let problem = Self.addressProblem(ipText) { throw invalid("backends key '\(ipText)' \(problem)") }
            guard let ip = IPAddress(ipText) else { continue }
            if let listed = entry.zones?[ipText]?.forZones.count, listed > 8 {
                throw invalid("zones key '\(ipText)' lists \(listed) forZones: Kubernetes allows at most 8")
            }
            for (portName, address) in ports.sorted(by: { $0.key < $1.key }) {
                guard let transport = TransportProtocol(rawValue: address.proto.uppercased()) else { continue }
                guard address.port > 0 else { throw invalid("backends key '\(ipText)' port '\(portName)' has port 0") }
                if let other = transports[portName], other != transport {
                    throw invalid("backends port '\(portName)' is \(other.rawValue) on one address and \(transport.rawValue) on another")
                }
                transports[portName] = transport
                let backend = Backend(
                    endpoint: SocketEndpoint(ip: ip, port: address.port), cluster: cluster, state: .active,
                    zone: entry.zones?[ipText].flatMap { $0.zone.isEmpty ? nil : $0.zone }, hostname: entry.hostnames?[ipText],
                    forZones: entry.zones?[ipText]?.forZones.map(\.name) ?? [])
                backends[portName, default: []].append(backend)
            }
        }
        return RemoteService(
            cluster: cluster, name: parsedKey.name, isGlobal: entry.includeExternal, isShared: entry.shared, backends: backends,
            transports: transports)
    }

    /// Why a frontend or backend key is not an address Cilium accepts (`netip.ParseAddr`, and
    /// no IPv6 zone), or nil.
    static func addressProblem(_ text: String) -> String? {
        if text.contains("%") { return "has an IPv6 zone suffix, which Cilium does not accept: write the address alone" }
        return IPAddress(text) == nil ? "is not an IP address" : nil
    }

    static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): "field '\(key.stringValue)' is missing"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            "field '\(context.codingPath.map(\.stringValue).joined(separator: "."))' has the wrong type"
        case DecodingError.dataCorrupted(let context) where !context.codingPath.isEmpty:
            "field '\(context.codingPath.map(\.stringValue).joined(separator: "."))' has an invalid value (\(context.debugDescription))"
        case DecodingError.dataCorrupted: "not valid JSON"
        default: "\(error)"
        }
    }

    /// The checks Cilium makes of every entry it reads from a remote cluster: `cluster`,
    /// `namespace` and `name` set, the cluster the one read from and the one the key names, and
    /// the namespace and name the key's.
    static func checkIdentity(
        cluster entryCluster: String, namespace: String, name: String, key parsedKey: (cluster: String, name: ServiceName), readFrom cluster: ClusterName,
        key: String
    ) throws(InvalidRemoteEntry) {
        func invalid(_ reason: String) -> InvalidRemoteEntry { InvalidRemoteEntry(key: key, reason: reason) }
        for (field, value) in [("cluster", entryCluster), ("namespace", namespace), ("name", name)] where value.isEmpty {
            throw invalid("field '\(field)' is missing or empty (Cilium refuses it too: \(field) is unset)")
        }
        guard entryCluster == cluster.rawValue, parsedKey.cluster == cluster.rawValue else {
            throw invalid("names cluster '\(entryCluster)' under the key of '\(parsedKey.cluster)', but was read from cluster \(cluster)")
        }
        guard namespace == parsedKey.name.namespace, name == parsedKey.name.name else {
            throw invalid("names service \(namespace)/\(name) but its key names \(parsedKey.name)")
        }
    }
}
