import Foundation
import InterlinkCore
import InterlinkMesh
import Yams

/// One remote cluster to connect to, from a file named after it in `--clustermesh-config`,
/// in Cilium's format: etcd's client configuration (`endpoints:`, `trusted-ca-file`,
/// `cert-file`, `key-file`, `username`, `password`, ...) and Cilium's `cilium-host-aliases`.
/// See `RemoteClusterConfig+Parsing.swift` for every key.
public struct RemoteClusterConfig: Hashable, Sendable {
    public var name: ClusterName
    public var endpoints: [String]
    public var tls: EtcdTLSFiles?
    public var credentials: EtcdCredentials?
    /// Host name → the IPs to dial for it (`cilium-host-aliases`); the TLS server name stays
    /// the host name, so the store's certificate must be for it.
    public var hostAliases: [String: [String]] = [:]
    /// Keys the file has that Interlink does not know: ignored, reported.
    public var unknownKeys: [String] = []

    public init(name: ClusterName, endpoints: [String], tls: EtcdTLSFiles? = nil, credentials: EtcdCredentials? = nil) {
        self.name = name
        self.endpoints = endpoints
        self.tls = tls
        self.credentials = credentials
    }

    /// The files whose change must reconnect: the certificates and keys it names.
    public var referencedFiles: [String] {
        [tls?.trustedCAFile, tls?.certFile, tls?.keyFile].compactMap { $0 }
    }
}

/// The files of a `--clustermesh-config` folder, as last read. As Cilium does, only regular
/// files that contain `endpoints:` are cluster configs: a mounted `cilium-clustermesh` secret
/// holds the certificates and keys beside them, which are ignored.
public enum ClusterMeshDirectory {
    /// A larger file is no cluster config (they are a few hundred bytes).
    public static let maximumFileBytes = 1 << 20

    public struct File: Sendable {
        public var name: String
        /// The content, to notice a change.
        public var text: String
        var path: String

        /// The parsed content: parsed when asked, since the folder is read every 250 ms and
        /// only changed files need it (a mesh may have 254 of them).
        public var config: Result<RemoteClusterConfig, SettingsError> {
            return Result { () throws(SettingsError) in try RemoteClusterConfig.parse(file: name, text: text, path: path) }
        }
    }

    /// Reads every cluster config (hidden files skipped, as Kubernetes' `..data` links are;
    /// files without `endpoints:` ignored); a file that does not parse is returned with its
    /// error so that the others still connect.
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
            // Kubernetes mounts a secret's files as links into `..data/`: look through them.
            let resolved = resolvedPath(path)
            guard let size = (try? FileManager.default.attributesOfItem(atPath: resolved))?[.size] as? Int, size <= maximumFileBytes,
                  let data = FileManager.default.contents(atPath: path), data.count <= maximumFileBytes,
                  let text = String(data: data, encoding: .utf8), text.contains("endpoints:")
            else { return nil }
            return File(name: file, text: text, path: path)
        }
    }

    /// The size, modification time and link target of each file: a rotated certificate, key or
    /// CA changes it (Kubernetes swaps `..data` to a new folder on rotation).
    public static func stamp(of paths: [String]) -> String {
        paths.map { path in
            let target = resolvedPath(path)
            let attributes = try? FileManager.default.attributesOfItem(atPath: target)
            let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            return "\(target) \(attributes?[.size] as? Int ?? -1) \(modified)"
        }.joined(separator: "\n")
    }

    /// `path` with every link resolved (`realpath(3)`), or `path` when it does not resolve.
    static func resolvedPath(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
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
