import InterlinkMesh
import Testing

struct PeerKeyScopeTests {
    static func range(_ key: String, _ end: [UInt8]) -> KeyRange { KeyRange(key: Array(key.utf8), end: end) }

    @Test("peers address only cilium/ keys: single keys, prefixes and ranges inside it", arguments: [
        (KeyRange(key: Array("cilium/state/services/v1/east/default/echo".utf8)), true),
        (KeyRange.prefix("cilium/"), true), (KeyRange.prefix("cilium/state/"), true),
        (KeyRange.prefix("cilium"), false), (KeyRange.prefix(""), false), (KeyRange.prefix("interlink/"), false),
        (KeyRange(key: Array("interlink/live/east".utf8)), false), (range("cilium/", [0]), false),
        (range("cilium/a", Array("cilium0".utf8)), true), (range("cilium/a", Array("cilium1".utf8)), false),
        (range("a", Array("d".utf8)), false),
    ])
    func readOnlyScope(_ range: KeyRange, _ allowed: Bool) {
        #expect(((try? PeerKeyScope(allowWrites: false).check(range)) != nil) == allowed)
    }

    @Test("with --mesh-allow-writes every key but the agent's own interlink/ keys", arguments: [
        (KeyRange(key: Array("w/a".utf8)), true), (KeyRange.prefix("cilium/"), true), (KeyRange.prefix("c/"), true),
        (KeyRange(key: Array("interlink/live/east".utf8)), false), (KeyRange.prefix("interlink/"), false),
        (KeyRange.prefix(""), false), (range("a", [0]), false), (range("a", Array("j".utf8)), false),
        (range("interlink0", [0]), true), (range("a", Array("interlink/".utf8)), true),
    ])
    func writableScope(_ range: KeyRange, _ allowed: Bool) {
        #expect(((try? PeerKeyScope(allowWrites: true).check(range)) != nil) == allowed)
    }

    @Test("a refusal is etcd's permission denied")
    func refusalText() {
        #expect(throws: StoreError.permissionDenied) { try PeerKeyScope(allowWrites: false).check(key: Array("interlink/live/east".utf8)) }
        #expect(StoreError.permissionDenied.description == "etcdserver: permission denied")
        #expect(StoreError.permissionDenied.grpcCode == 7)
    }
}
