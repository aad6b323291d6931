import Foundation
import InterlinkCore
import InterlinkMesh
import Yams

/// One remote cluster to connect to, from a file named after it in `--clustermesh-config`,
/// in Cilium's format (`endpoints:` list of URLs; `trusted-ca-file`, `cert-file`, `key-file`;
/// `username` and `password` for etcd's password authentication).
public struct RemoteClusterConfig: Hashable, Sendable {
    public var name: ClusterName
    public var endpoints: [String]
    public var tls: EtcdTLSFiles?
    public var credentials: EtcdCredentials?

    public init(name: ClusterName, endpoints: [String], tls: EtcdTLSFiles? = nil, credentials: EtcdCredentials? = nil) {
        self.name = name
        self.endpoints = endpoints
        self.tls = tls
        self.credentials = credentials
    }

    /// Reads every file of `directory` (hidden files skipped); the first bad file is an error
    /// naming it (used at start-up, where a typo should stop the agent).
    public static func load(directory: String) throws -> [RemoteClusterConfig] {
        try ClusterMeshDirectory.scan(directory).map { try $0.config.get() }
    }

    /// Parses one file; `path` is only used in errors.
    public static func parse(file: String, text: String, path: String) throws(SettingsError) -> RemoteClusterConfig {
        let name: ClusterName
        do { name = try ClusterName(file) } catch {
            throw SettingsError("\(path): the file name must be the remote cluster's name: \(error)")
        }
        // Read as YAML nodes, not with Yams.load: its dictionaries force-unwrap every key as a
        // string and crash on a key that is a list or a mapping (found by FuzzClusterConfig).
        let expected = SettingsError("\(path): expected 'endpoints:' with at least one URL such as http://127.0.0.1:2379")
        guard text.utf8.count <= 1 << 20, let node = try? Yams.compose(yaml: text), case .mapping(let root) = node,
              case .sequence(let list)? = root["endpoints"]
        else { throw expected }
        let endpoints = list.compactMap(\.scalar?.string)
        guard !endpoints.isEmpty, endpoints.count == list.count else { throw expected }
        for endpoint in endpoints where !(endpoint.hasPrefix("http://") || endpoint.hasPrefix("https://")) {
            throw SettingsError("\(path): endpoints: \(endpoint) is not an http:// or https:// URL")
        }
        let ca = root["trusted-ca-file"]?.scalar?.string, cert = root["cert-file"]?.scalar?.string, key = root["key-file"]?.scalar?.string
        var tls: EtcdTLSFiles?
        if ca != nil || cert != nil || key != nil {
            guard (cert == nil) == (key == nil) else {
                throw SettingsError("\(path): cert-file and key-file go together: give both (mutual TLS) or neither")
            }
            for (field, file) in [("trusted-ca-file", ca), ("cert-file", cert), ("key-file", key)] {
                if let file, !FileManager.default.isReadableFile(atPath: file) {
                    throw SettingsError("\(path): \(field): \(file) cannot be read")
                }
            }
            tls = EtcdTLSFiles(trustedCAFile: ca, certFile: cert, keyFile: key)
        }
        let username = root["username"]?.scalar?.string, password = root["password"]?.scalar?.string
        guard (username == nil) == (password == nil) else {
            throw SettingsError("\(path): username and password go together: give both (etcd's password authentication) or neither")
        }
        let credentials = username.map { EtcdCredentials(username: $0, password: password ?? "") }
        return RemoteClusterConfig(name: name, endpoints: endpoints, tls: tls, credentials: credentials)
    }
}

/// The files of a `--clustermesh-config` folder, as last read.
public enum ClusterMeshDirectory {
    public struct File: Sendable {
        public var name: String
        /// The content, to notice a change.
        public var text: String
        var path: String
        var unreadable: SettingsError?

        /// The parsed content: parsed when asked, since the folder is read every 250 ms and
        /// only changed files need it (a mesh may have 254 of them).
        public var config: Result<RemoteClusterConfig, SettingsError> {
            if let unreadable { return .failure(unreadable) }
            return Result { () throws(SettingsError) in try RemoteClusterConfig.parse(file: name, text: text, path: path) }
        }
    }

    /// Reads every file (hidden ones skipped, as Kubernetes' `..data` links are); a file that
    /// does not parse is returned with its error so that the others still connect.
    public static func scan(_ directory: String) throws(SettingsError) -> [File] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { !$0.hasPrefix(".") }.sorted()
        } catch {
            throw SettingsError("\(directory) cannot be read as a directory: create it, with one file per remote cluster")
        }
        return names.compactMap { file in
            let path = (directory as NSString).appendingPathComponent(file)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else { return nil }
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                return File(name: file, text: "", path: path, unreadable: SettingsError("\(path) cannot be read as UTF-8 text"))
            }
            return File(name: file, text: text, path: path)
        }
    }

    /// Writes the file of one remote cluster (atomically: a watcher never sees half a file).
    public static func write(_ config: RemoteClusterConfig, to directory: String) throws {
        var text = "endpoints:\n" + config.endpoints.map { "  - \($0)\n" }.joined()
        if let tls = config.tls {
            if let ca = tls.trustedCAFile { text += "trusted-ca-file: \(ca)\n" }
            if let cert = tls.certFile { text += "cert-file: \(cert)\n" }
            if let key = tls.keyFile { text += "key-file: \(key)\n" }
        }
        if let credentials = config.credentials {
            // Double-quoted YAML takes JSON's escapes: any password stays one scalar.
            func quoted(_ text: String) -> String { String(decoding: (try? JSONEncoder().encode(text)) ?? Data("\"\"".utf8), as: UTF8.self) }
            text += "username: \(quoted(credentials.username))\npassword: \(quoted(credentials.password))\n"
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try text.write(toFile: (directory as NSString).appendingPathComponent(config.name.rawValue), atomically: true, encoding: .utf8)
    }
}
