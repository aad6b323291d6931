extension ClusterService {
    enum CodingKeys: String, CodingKey {
        case cluster, namespace, name, frontends, backends, hostnames, zones, labels, selector, includeExternal, shared, clusterID
    }

    /// Go's `encoding/json` rules (see `GoJSONFields`): Cilium's own test data leaves out
    /// `includeExternal`, older exporters leave out `hostnames` and `zones`, and a nil Go map is
    /// `null`. Walks the address maps with keyed containers rather than through the generic
    /// `Dictionary: Decodable`, which instantiates type metadata for every nested map: a remote
    /// cluster syncing 100 services of 20 backends each spent most of its time there.
    public init(from decoder: any Decoder) throws {
        let fields = try GoJSONFields(decoder)
        cluster = try fields.string("cluster")
        namespace = try fields.string("namespace")
        name = try fields.string("name")
        frontends = try Self.decodePortMap(fields.object("frontends"))
        backends = try Self.decodePortMap(fields.object("backends"))
        hostnames = try fields.strings("hostnames")
        zones = try Self.decodeZones(fields.object("zones"))
        labels = try fields.strings("labels")
        selector = try fields.strings("selector")
        includeExternal = try fields.bool("includeExternal")
        shared = try fields.bool("shared")
        clusterID = UInt32(try fields.number("clusterID", in: 0...Int(UInt32.max)))
    }

    /// What Cilium's `json.Marshal` writes: every field, but `hostnames` and `zones` only when
    /// not empty (`omitempty`).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(cluster, forKey: .cluster)
        try container.encode(namespace, forKey: .namespace)
        try container.encode(name, forKey: .name)
        try container.encode(frontends, forKey: .frontends)
        try container.encode(backends, forKey: .backends)
        if let hostnames, !hostnames.isEmpty { try container.encode(hostnames, forKey: .hostnames) }
        if let zones, !zones.isEmpty { try container.encode(zones, forKey: .zones) }
        try container.encode(labels ?? [:], forKey: .labels)
        try container.encode(selector ?? [:], forKey: .selector)
        try container.encode(includeExternal, forKey: .includeExternal)
        try container.encode(shared, forKey: .shared)
        try container.encode(clusterID, forKey: .clusterID)
    }

    private static func decodePortMap(_ object: GoJSONFields?) throws -> PortMap {
        guard let object else { return [:] }
        let addresses = object.container
        var map: PortMap = [:]
        map.reserveCapacity(addresses.allKeys.count)
        for address in addresses.allKeys {
            guard try !addresses.decodeNil(forKey: address) else {
                map[address.stringValue] = [:]
                continue
            }
            let ports = try addresses.nestedContainer(keyedBy: GoJSONFields.Key.self, forKey: address)
            var byName: [String: PortAddress] = [:]
            // Go's PortConfiguration holds pointers: a `null` port is a nil entry, which Cilium
            // skips; so do we.
            for port in ports.allKeys where try !ports.decodeNil(forKey: port) {
                byName[port.stringValue] = try ports.decode(PortAddress.self, forKey: port)
            }
            map[address.stringValue] = byName
        }
        return map
    }

    private static func decodeZones(_ object: GoJSONFields?) throws -> [String: BackendZone]? {
        guard let object else { return nil }
        var zones: [String: BackendZone] = [:]
        for address in object.container.allKeys where try !object.container.decodeNil(forKey: address) {
            zones[address.stringValue] = try object.container.decode(BackendZone.self, forKey: address)
        }
        return zones
    }
}

extension ClusterService.BackendZone {
    public init(from decoder: any Decoder) throws {
        let fields = try GoJSONFields(decoder)
        zone = try fields.string("zone")
        forZones = try fields.decode([ForZone].self, "forZones") ?? []
    }
}

extension ClusterService.BackendZone.ForZone {
    public init(from decoder: any Decoder) throws {
        name = try GoJSONFields(decoder).string("name")
    }
}

extension ClusterService.PortAddress {
    public init(from decoder: any Decoder) throws {
        let fields = try GoJSONFields(decoder)
        proto = try fields.string("Protocol")
        port = UInt16(try fields.number("Port", in: 0...Int(UInt16.max)))
    }
}
