import FuzzSupport
import InterlinkCore
import InterlinkMesh

/// A remote cluster's `ClusterService` entry, as a watcher reads it from the remote store:
/// decoded, validated and cached, over a valid entry of the same key.
@_cdecl("FuzzClusterService_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzz)
}

func fuzz(_ bytes: UnsafeRawBufferPointer) {
    let value = Array(bytes)
    guard let west = try? ClusterName("west"), let id = try? ClusterID(2) else { return }
    let key = "cilium/state/services/v1/west/default/echo"
    var cache = RemoteServiceCache(cluster: west, clusterID: id)
    cache.put(key: key, value: Array(#"{"cluster":"west","clusterID":2,"namespace":"default","name":"echo","includeExternal":true,"shared":true,"backends":{"127.0.0.2":{"http":{"Protocol":"TCP","Port":80}}}}"#.utf8))
    cache.put(key: key, value: value)
    for service in cache.services.values {
        for backends in service.backends.values { _ = MaglevTable(backends: backends.map(\.endpoint)) }
    }
}
