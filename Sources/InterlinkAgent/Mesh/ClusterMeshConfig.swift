import Foundation
import InterlinkCore
import Yams

/// One remote cluster to connect to, from a file named after it in `--clustermesh-config`,
/// in Cilium's format (`endpoints:` list of URLs; `trusted-ca-file`, `cert-file`, `key-file`).
public struct RemoteClusterConfig: Hashable, Sendable {
    public var name: ClusterName
    public var endpoints: [String]

    /// Reads every file of `directory` (hidden files skipped); a bad file is an error naming it.
    public static func load(directory: String) throws -> [RemoteClusterConfig] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { !$0.hasPrefix(".") }.sorted()
        } catch {
            throw ClusterMeshConfigError("\(directory) cannot be read as a directory: create it, with one file per remote cluster")
        }
        return try names.map { file in
            let path = "\(directory)/\(file)"
            let name: ClusterName
            do { name = try ClusterName(file) } catch {
                throw ClusterMeshConfigError("\(path): the file name must be the remote cluster's name: \(error)")
            }
            let text = try String(contentsOfFile: path, encoding: .utf8)
            guard let root = try? Yams.load(yaml: text) as? [String: Any], let endpoints = root["endpoints"] as? [String], !endpoints.isEmpty else {
                throw ClusterMeshConfigError("\(path): expected 'endpoints:' with at least one URL such as http://127.0.0.1:2379")
            }
            for endpoint in endpoints where !(endpoint.hasPrefix("http://") || endpoint.hasPrefix("https://")) {
                throw ClusterMeshConfigError("\(path): endpoints: \(endpoint) is not an http:// or https:// URL")
            }
            if root["trusted-ca-file"] != nil || root["cert-file"] != nil || root["key-file"] != nil {
                throw ClusterMeshConfigError("\(path): TLS (trusted-ca-file, cert-file, key-file) is not supported yet: use http:// endpoints")
            }
            return RemoteClusterConfig(name: name, endpoints: endpoints)
        }
    }
}

public struct ClusterMeshConfigError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
