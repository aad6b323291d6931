import FuzzSupport
import Foundation
import InterlinkMesh

/// The embedded store's request decoding and handling, as a peer reaches it on the mesh port:
/// the first byte picks the call, the rest is its JSON body. Writes are allowed, so that
/// puts, transactions, leases and compaction run too. The store lives in /dev/shm (fsync is
/// cheap there).
let store: EmbeddedStore = {
    let directory = "/dev/shm/interlink-fuzz-\(getpid())"
    return try! EmbeddedStore(directory: directory, watchBufferBytes: 1 << 20)
}()

let paths = [
    "/v3/kv/range", "/v3/kv/put", "/v3/kv/deleterange", "/v3/kv/txn", "/v3/kv/compaction",
    "/v3/lease/grant", "/v3/lease/keepalive", "/v3/lease/revoke", "/v3/lease/timetolive",
]

@_cdecl("FuzzStoreRequest_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzz)
}

func fuzz(_ bytes: UnsafeRawBufferPointer) {
    guard let first = bytes.first else { return }
    let path = paths[Int(first) % paths.count]
    _ = StoreGateway.respond(path: path, body: Data(bytes.dropFirst()), store: store, allowWrites: first >= 128, cluster: "fuzz")
    _ = store.expireLeases()
}
