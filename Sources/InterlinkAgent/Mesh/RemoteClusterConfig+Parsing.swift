import Foundation
import InterlinkCore
import InterlinkMesh
import Yams

extension RemoteClusterConfig {
    /// etcd's client configuration keys (`go.etcd.io/etcd/client/v3/yaml`) and Cilium's. Those
    /// without an effect here are accepted so that a file Cilium reads is read here too.
    static let knownKeys: Set<String> = [
        "endpoints", "trusted-ca-file", "ca-file", "cert-file", "key-file", "insecure-transport", "insecure-skip-tls-verify",
        "username", "password", "dial-timeout", "dial-keep-alive-time", "dial-keep-alive-timeout", "auto-sync-interval",
        "max-call-send-msg-size", "max-call-recv-msg-size", "reject-old-cluster", "permit-without-stream", "cilium-host-aliases",
    ]

    /// Parses one file; `path` is only used in errors, which name the file and the key.
    public static func parse(file: String, text: String, path: String) throws(SettingsError) -> RemoteClusterConfig {
        let name: ClusterName
        do { name = try ClusterName(file) } catch {
            throw SettingsError("\(path): the file name must be the remote cluster's name: \(error)")
        }
        // Read as YAML nodes, not with Yams.load: its dictionaries force-unwrap every key as a
        // string and crash on a key that is a list or a mapping (found by FuzzClusterConfig).
        let expected = SettingsError("\(path): expected 'endpoints:' with at least one URL such as https://127.0.0.1:2379")
        guard text.utf8.count <= ClusterMeshDirectory.maximumFileBytes, let node = try? Yams.compose(yaml: text), case .mapping(let root) = node,
              case .sequence(let list)? = root["endpoints"]
        else { throw expected }
        let endpoints = list.compactMap(\.scalar?.string)
        guard !endpoints.isEmpty, endpoints.count == list.count else { throw expected }
        func string(_ key: String) throws(SettingsError) -> String? {
            guard let value = root[key] else { return nil }
            guard let text = value.scalar?.string else { throw SettingsError("\(path): \(key): expected a single value") }
            return text.isEmpty ? nil : text
        }
        func flag(_ key: String) throws(SettingsError) -> Bool {
            guard let text = try string(key) else { return false }
            switch text.lowercased() {
            case "true", "yes", "on": return true
            case "false", "no", "off": return false
            default: throw SettingsError("\(path): \(key): \(text) is not true or false")
            }
        }
        let insecureTransport = try flag("insecure-transport")
        for endpoint in endpoints {
            do { _ = try StoreEndpoint(endpoint) } catch { throw SettingsError("\(path): endpoints: \(error)") }
            if insecureTransport, endpoint.hasPrefix("https://") {
                throw SettingsError("\(path): insecure-transport: true turns TLS off, but endpoints: \(endpoint) is https://: write http:// or drop insecure-transport")
            }
        }
        for key in ["dial-timeout", "dial-keep-alive-time", "dial-keep-alive-timeout", "auto-sync-interval"] {
            if let text = try string(key) {
                do { _ = try DurationText.parse(text) } catch { throw SettingsError("\(path): \(key): \(error)") }
            }
        }
        var config = RemoteClusterConfig(name: name, endpoints: endpoints)
        if !insecureTransport {
            // `ca-file` is the deprecated spelling Cilium still reads.
            let trusted = try string("trusted-ca-file"), deprecated = try string("ca-file")
            config.tls = try tlsFiles(
                ca: trusted ?? deprecated, cert: try string("cert-file"), key: try string("key-file"),
                skipVerify: try flag("insecure-skip-tls-verify"), path: path)
        }
        let username = try string("username"), password = try string("password")
        guard (username == nil) == (password == nil) else {
            throw SettingsError("\(path): username and password go together: give both (etcd's password authentication) or neither")
        }
        config.credentials = username.map { EtcdCredentials(username: $0, password: password ?? "") }
        config.hostAliases = try hostAliases(root["cilium-host-aliases"], path: path)
        config.unknownKeys = root.keys.compactMap(\.scalar?.string).filter { !knownKeys.contains($0) }.sorted()
        return config
    }

    private static func tlsFiles(ca: String?, cert: String?, key: String?, skipVerify: Bool, path: String) throws(SettingsError) -> EtcdTLSFiles? {
        guard ca != nil || cert != nil || key != nil || skipVerify else { return nil }
        guard (cert == nil) == (key == nil) else {
            throw SettingsError("\(path): cert-file and key-file go together: give both (mutual TLS) or neither")
        }
        for (field, file) in [("trusted-ca-file", ca), ("cert-file", cert), ("key-file", key)] {
            if let file, !FileManager.default.isReadableFile(atPath: file) {
                throw SettingsError("\(path): \(field): \(file) cannot be read")
            }
        }
        return EtcdTLSFiles(trustedCAFile: ca, certFile: cert, keyFile: key, skipServerVerification: skipVerify)
    }

    /// `cilium-host-aliases`: a list of `{hostname, ips}` (Cilium's form), or a map from host
    /// name to an IP or a list of IPs (the older form).
    static func hostAliases(_ node: Node?, path: String) throws(SettingsError) -> [String: [String]] {
        guard let node else { return [:] }
        let field = "\(path): cilium-host-aliases"
        var entries: [(hostname: String?, ips: Node?)] = []
        switch node {
        case .sequence(let list):
            for item in list {
                guard case .mapping(let entry) = item else { throw SettingsError("\(field): each entry is {hostname: NAME, ips: [IP, ...]}") }
                entries.append((entry["hostname"]?.scalar?.string, entry["ips"]))
            }
        case .mapping(let map):
            for (key, value) in map { entries.append((key.scalar?.string, value)) }
        case .scalar(let scalar) where scalar.string.isEmpty || scalar.string == "null" || scalar.string == "~":
            return [:]
        default:
            throw SettingsError("\(field): expected a list of {hostname: NAME, ips: [IP, ...]}")
        }
        var aliases: [String: [String]] = [:]
        for (hostname, ipsNode) in entries {
            guard let hostname, !hostname.isEmpty else { throw SettingsError("\(field): an entry has an empty hostname") }
            let ips: [String] = switch ipsNode {
            case .sequence(let list)?: list.compactMap(\.scalar?.string)
            case .scalar(let scalar)?: [scalar.string]
            default: []
            }
            guard !ips.isEmpty else { throw SettingsError("\(field): \(hostname) has no IPs") }
            for ip in ips where IPAddress(ip) == nil {
                throw SettingsError("\(field): \(hostname): \(ip) is not an IP address")
            }
            guard aliases[hostname] == nil else { throw SettingsError("\(field): \(hostname) is listed twice") }
            aliases[hostname] = ips
        }
        return aliases
    }
}
