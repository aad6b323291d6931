import Foundation
import InterlinkCore
import InterlinkMesh
import InterlinkProxy

extension AgentSettings {
    /// Checks every option of `interlink agent` and builds the settings; the first bad one is a
    /// `FlagError` naming it, the value and what is expected.
    public init(flags: AgentFlags, environment: [String: String] = ProcessInfo.processInfo.environment) throws(FlagError) {
        guard (1...10).contains(flags.maxAttempts) else { throw FlagError("--max-attempts: \(flags.maxAttempts) is not valid: expected 1 to 10") }
        if let threads = flags.threads, !(1...256).contains(threads) { throw FlagError("--threads: \(threads) is not valid: expected 1 to 256") }
        for (option, value) in [("--api-max-connections", flags.apiMaxConnections), ("--mesh-max-connections", flags.meshMaxConnections)]
        where !(1...65536).contains(value) {
            throw FlagError("\(option): \(value) is not valid: expected 1 to 65536")
        }
        let name: ClusterName, id: ClusterID, meshSize: MaxConnectedClusters
        do { name = try ClusterName(flags.clusterName) } catch { throw FlagError("--cluster-name: \(error)") }
        do { meshSize = try MaxConnectedClusters(flags.maxConnectedClusters) } catch { throw FlagError("--max-connected-clusters: \(error)") }
        do { id = try ClusterID(flags.clusterID, maxConnectedClusters: meshSize) } catch { throw FlagError("--cluster-id: \(error)") }
        self.init(clusterName: name, clusterID: id, manifestsPath: flags.manifests, apiListen: flags.apiListen)
        maxConnectedClusters = meshSize
        manifestOptions.strict = flags.strict
        if let text = flags.defaultFrontend {
            guard let address = IPAddress(text) else {
                throw FlagError("--default-frontend: \(text) is not an IP address: expected an IPv4 or IPv6 address such as 127.0.0.10 (Services without a clusterIP listen on it)")
            }
            manifestOptions.defaultFrontend = address
        }
        heartbeatInterval = try Self.duration(flags.kvstoreHeartbeatInterval, option: "--kvstore-heartbeat-interval")
        guard heartbeatInterval >= .seconds(1), heartbeatInterval <= .seconds(90) else {
            throw FlagError("--kvstore-heartbeat-interval: \(flags.kvstoreHeartbeatInterval) is not valid: expected 1s to 90s (Cilium agents give up on a heartbeat older than about two minutes)")
        }
        proxy.connectTimeout = try Self.duration(flags.connectTimeout, option: "--connect-timeout")
        proxy.idleTimeout = try Self.duration(flags.idleTimeout, option: "--idle-timeout")
        proxy.maxAttempts = flags.maxAttempts
        drainGrace = try Self.duration(flags.drainGrace, option: "--drain-grace")
        threads = flags.threads
        if let kind = flags.dataPlane {
            guard let plane = DataPlaneKind(rawValue: kind) else {
                throw FlagError("--data-plane: \(kind) is not valid: expected \(DataPlaneKind.allCases.map(\.rawValue).joined(separator: " or "))")
            }
            #if !os(Linux)
            guard plane != .epoll else { throw FlagError("--data-plane: epoll needs Linux; use nio") }
            #endif
            dataPlane = plane
        }
        let dataDirectory = flags.dataDir ?? Self.defaultDataDirectory(cluster: name, environment: environment)
        try applyStore(flags, dataDirectory: dataDirectory)
        clustermeshConfig = flags.clustermeshConfig ?? (dataDirectory as NSString).appendingPathComponent("clustermesh")
        meshAdvertise = flags.meshAdvertise.map { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }
        for url in meshAdvertise ?? [] {
            do { _ = try StoreEndpoint(url) } catch { throw FlagError("--mesh-advertise: \(error)") }
        }
        let idle = try Self.duration(flags.controlIdleTimeout, option: "--control-idle-timeout")
        apiLimits.maxConnections = flags.apiMaxConnections
        meshLimits.maxConnections = flags.meshMaxConnections
        apiLimits.idleTimeout = idle
        meshLimits.idleTimeout = idle
        backendAllowedCIDRs = try Self.networks(flags.backendAllowedCIDRs, option: "--backend-allowed-cidrs")
        backendDeniedCIDRs = try Self.networks(flags.backendDeniedCIDRs, option: "--backend-denied-cidrs")
        apiTokenFile = flags.apiTokenFile
        if let ttl = flags.clustermeshCacheTTL { clustermeshCacheTTL = try Self.duration(ttl, option: "--clustermesh-cache-ttl") }
    }

    /// `--kvstore` and what goes with it.
    private mutating func applyStore(_ flags: AgentFlags, dataDirectory: String) throws(FlagError) {
        if flags.kvstore != "etcd", flags.kvstoreEndpoints != nil { throw FlagError("--kvstore-endpoints needs --kvstore etcd") }
        switch flags.kvstore {
        case "none":
            kvstore = .none
        case "etcd":
            let endpoints = (flags.kvstoreEndpoints ?? "").split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            guard !endpoints.isEmpty else { throw FlagError("--kvstore etcd needs --kvstore-endpoints http://IP:PORT[,http://IP:PORT]") }
            for endpoint in endpoints {
                do { _ = try StoreEndpoint(endpoint) } catch { throw FlagError("--kvstore-endpoints: \(error)") }
            }
            var tls: EtcdTLSFiles?
            if flags.kvstoreTrustedCAFile != nil || flags.kvstoreCertFile != nil || flags.kvstoreKeyFile != nil {
                guard (flags.kvstoreCertFile == nil) == (flags.kvstoreKeyFile == nil) else {
                    throw FlagError("--kvstore-cert-file and --kvstore-key-file go together: give both (mutual TLS) or neither")
                }
                let files = [("--kvstore-trusted-ca-file", flags.kvstoreTrustedCAFile), ("--kvstore-cert-file", flags.kvstoreCertFile), ("--kvstore-key-file", flags.kvstoreKeyFile)]
                for (option, file) in files {
                    if let file, !FileManager.default.isReadableFile(atPath: file) { throw FlagError("\(option): \(file) cannot be read") }
                }
                tls = EtcdTLSFiles(trustedCAFile: flags.kvstoreTrustedCAFile, certFile: flags.kvstoreCertFile, keyFile: flags.kvstoreKeyFile)
            }
            kvstore = .etcd(endpoints: endpoints, tls: tls)
            meshClientTLS = tls
        case "embedded":
            var embedded = EmbeddedStoreSettings(listen: flags.meshListen, dataDirectory: dataDirectory, allowWrites: flags.meshAllowWrites)
            try applyMeshTLS(flags, to: &embedded)
            kvstore = .embedded(embedded)
            if flags.meshListen.ip.isUnspecified, flags.meshAdvertise == nil {
                throw FlagError("--mesh-listen \(flags.meshListen) listens on every address: say with --mesh-advertise \(embedded.tls == nil ? "http" : "https")://HOST:\(flags.meshListen.port) where other clusters reach it")
            }
        case let other:
            throw FlagError("--kvstore: \(other) is not valid: expected embedded, etcd or none")
        }
    }

    /// The mesh port's TLS and users, and the client TLS this agent uses for the stores it reads.
    private mutating func applyMeshTLS(_ flags: AgentFlags, to embedded: inout EmbeddedStoreSettings) throws(FlagError) {
        func file(_ given: String?, _ name: String) -> String? {
            given ?? flags.meshTLSDir.map { ($0 as NSString).appendingPathComponent(name) }
        }
        let cert = file(flags.meshCertFile, "server.crt"), key = file(flags.meshKeyFile, "server.key"), ca = file(flags.meshTrustedCAFile, "ca.crt")
        let clientCert = file(flags.meshClientCertFile, "client.crt"), clientKey = file(flags.meshClientKeyFile, "client.key")
        let named: [(String, String?)] = [
            ("--mesh-cert-file", cert), ("--mesh-key-file", key), ("--mesh-trusted-ca-file", ca),
            ("--mesh-client-cert-file", clientCert), ("--mesh-client-key-file", clientKey),
        ]
        for (option, path) in named {
            if let path, !FileManager.default.isReadableFile(atPath: path) {
                throw FlagError("\(option): \(path) cannot be read" + (flags.meshTLSDir.map { " (from --mesh-tls-dir \($0): make it with interlink certs issue)" } ?? ""))
            }
        }
        guard (cert == nil) == (key == nil) else { throw FlagError("--mesh-cert-file and --mesh-key-file go together: give both or neither") }
        guard (clientCert == nil) == (clientKey == nil) else {
            throw FlagError("--mesh-client-cert-file and --mesh-client-key-file go together: give both or neither")
        }
        if ca != nil, cert == nil { throw FlagError("--mesh-trusted-ca-file needs --mesh-cert-file and --mesh-key-file: mutual TLS is served over TLS") }
        if let cert, let key { embedded.tls = MeshServerTLS(certFile: cert, keyFile: key, trustedCAFile: ca) }
        if clientCert != nil || ca != nil { meshClientTLS = EtcdTLSFiles(trustedCAFile: ca, certFile: clientCert, keyFile: clientKey) }
        embedded.readOnlyUsers = Self.users(flags.meshReadOnlyUsers)
        embedded.adminUsers = Self.users(flags.meshAdminUsers)
        if embedded.tls?.trustedCAFile == nil, !embedded.readOnlyUsers.union(embedded.adminUsers).isEmpty {
            throw FlagError("--mesh-read-only-users and --mesh-admin-users name client-certificate users: they need --mesh-trusted-ca-file")
        }
        embedded.insecure = flags.meshInsecure
        embedded.gatewayListen = flags.meshGatewayListen
    }

    /// A duration option: Go syntax, above 0.
    static func duration(_ text: String, option: String) throws(FlagError) -> Duration {
        let value: Duration
        do { value = try DurationText.parse(text) } catch { throw FlagError("\(option): \(error)") }
        guard value > .zero else { throw FlagError("\(option): \(text) must be above 0") }
        return value
    }

    /// A comma-separated list of CIDRs; an invalid one names the option and the value.
    static func networks(_ text: String?, option: String) throws(FlagError) -> [IPNetwork] {
        guard let text else { return [] }
        var networks: [IPNetwork] = []
        for part in text.split(separator: ",") {
            do { networks.append(try IPNetwork(part.trimmingCharacters(in: .whitespaces))) } catch { throw FlagError("\(option): \(error)") }
        }
        return networks
    }

    static func users(_ list: String?) -> Set<String> {
        Set((list ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
    }

    /// `$XDG_STATE_HOME/interlink/CLUSTER`, or `~/.local/state/interlink/CLUSTER`.
    public static func defaultDataDirectory(cluster: ClusterName, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        // `~` is $HOME, as the shell has it; Foundation's home directory is the passwd entry's.
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        let base = environment["XDG_STATE_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (home as NSString).appendingPathComponent(".local/state")
        return ((base as NSString).appendingPathComponent("interlink") as NSString).appendingPathComponent(cluster.description)
    }
}
