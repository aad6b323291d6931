import FuzzSupport
import Foundation
import InterlinkAgent
import InterlinkMesh

/// A cluster mesh configuration file (Cilium's format: endpoints, TLS files, ...) as the agent
/// reads it from `--clustermesh-config`, and a remote `cilium/cluster-config/<name>` value.
@_cdecl("FuzzClusterConfig_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzz)
}

func fuzz(_ bytes: UnsafeRawBufferPointer) {
    let bytes = Data(bytes)
    let text = String(decoding: bytes, as: UTF8.self)
    _ = try? RemoteClusterConfig.parse(file: "west", text: text, path: "/clustermesh/west")
    _ = try? JSONDecoder().decode(ClusterConfig.self, from: bytes)
}
