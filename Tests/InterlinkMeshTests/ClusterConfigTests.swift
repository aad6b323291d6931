import Foundation
import InterlinkCore
import InterlinkMesh
import Testing

struct ClusterConfigTests {
    static func decode(_ json: String) throws -> ClusterConfig {
        try JSONDecoder().decode(ClusterConfig.self, from: Data(json.utf8))
    }

    @Test("Cilium's cluster configs decode as Go reads them: every field optional, zero when left out")
    func decodesCiliumConfigs() throws {
        // From the issue, as Cilium 1.16+ and 1.19 clustermesh-apiservers write them.
        let three = try Self.decode(#"{"id":3,"capabilities":{"syncedCanaries":true,"maxConnectedClusters":255,"serviceExportsEnabled":false}}"#)
        #expect(three.id == 3 && three.capabilities.syncedCanaries && !three.capabilities.cached)
        #expect(three.capabilities.serviceExportsEnabled == false && !three.capabilities.exportsNoV1Services)
        let five = try Self.decode(
            #"{"id":5,"capabilities":{"syncedCanaries":true,"maxConnectedClusters":255,"serviceExportsEnabled":false,"endpointSlicesExportMode":"endpointslices-only"}}"#)
        #expect(five.capabilities.exportsNoV1Services)
        let cached = try Self.decode(#"{"id":9,"capabilities":{"syncedCanaries":true,"cached":true}}"#)
        #expect(cached.capabilities.cached && cached.capabilities.maxConnectedClusters == 0)
        #expect(cached.capabilities.effectiveMaxConnectedClusters == 255, "0 (left out) is Cilium's default")
        #expect(cached.capabilities.serviceExportsEnabled == nil, "left out: the peer predates the MCS-API")
        let bare = try Self.decode(#"{"id":9}"#)
        #expect(bare.id == 9 && !bare.capabilities.syncedCanaries)
        #expect(try Self.decode("{}").id == 0)
        #expect(try Self.decode(#"{"ID":4,"Capabilities":{"SyncedCanaries":true}}"#).capabilities.syncedCanaries, "Go matches names case-insensitively")
        #expect(throws: DecodingError.self) { try Self.decode(#"{"id":"nine"}"#) }
        #expect(throws: DecodingError.self) { try Self.decode(#"{"id":-1}"#) }
    }

    @Test("ours encodes as Cilium's does: zero values left out, serviceExportsEnabled written")
    func encodesLikeCilium() throws {
        let config = ClusterConfig(id: 3, capabilities: .init(syncedCanaries: true, maxConnectedClusters: 511, serviceExportsEnabled: false))
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = String(decoding: try encoder.encode(config), as: UTF8.self)
        #expect(json == #"{"capabilities":{"maxConnectedClusters":511,"serviceExportsEnabled":false,"syncedCanaries":true},"id":3}"#)
        #expect(try Self.decode(json) == config)
    }

    struct Peer: Sendable, CustomTestStringConvertible {
        var json: String
        var local: Int
        var accepted: Int?
        var reason = ""
        var testDescription: String { "\(json) with ours \(local)" }
    }

    @Test("a peer is refused unless its maxConnectedClusters is ours and its ID is in our range", arguments: [
        Peer(json: #"{"id":3,"capabilities":{"maxConnectedClusters":255}}"#, local: 255, accepted: 3),
        Peer(json: #"{"id":3}"#, local: 255, accepted: 3),
        Peer(json: #"{"id":300,"capabilities":{"maxConnectedClusters":511}}"#, local: 511, accepted: 300),
        Peer(json: #"{"id":3,"capabilities":{"maxConnectedClusters":511}}"#, local: 255, reason: "has maxConnectedClusters 511, this cluster 255"),
        Peer(json: #"{"id":3}"#, local: 511, reason: "has maxConnectedClusters 255, this cluster 511"),
        Peer(json: #"{"id":300}"#, local: 255, reason: "invalid cluster ID"),
        Peer(json: #"{"id":0}"#, local: 255, reason: "0 is reserved"),
        Peer(json: "not json", local: 255, reason: "is not a CiliumClusterConfig JSON value"),
    ])
    func validatesPeer(_ peer: Peer) throws {
        let west = try ClusterName("west")
        do {
            let (_, id) = try ClusterConfig.decodeValidated(Array(peer.json.utf8), cluster: west, localMaximum: try MaxConnectedClusters(peer.local))
            #expect(Int(id.rawValue) == peer.accepted)
        } catch {
            #expect(peer.accepted == nil && "\(error)".contains(peer.reason), "\(error)")
        }
    }
}
