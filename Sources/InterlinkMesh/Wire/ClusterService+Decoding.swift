extension ClusterService {
    enum CodingKeys: String, CodingKey {
        case cluster, namespace, name, frontends, backends, hostnames, labels, selector, includeExternal, shared, clusterID
    }

    /// A key of a JSON object whose keys are data (addresses, port names).
    struct DataKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// Walks the address maps with keyed containers rather than through the generic
    /// `Dictionary: Decodable`, which instantiates type metadata for every nested map: a remote
    /// cluster syncing 100 services of 20 backends each spent most of its time there.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        cluster = try container.decode(String.self, forKey: .cluster)
        namespace = try container.decode(String.self, forKey: .namespace)
        name = try container.decode(String.self, forKey: .name)
        frontends = try Self.decodePortMap(container, .frontends)
        backends = try Self.decodePortMap(container, .backends)
        hostnames = try Self.decodeStrings(container, .hostnames)
        labels = try Self.decodeStrings(container, .labels)
        selector = try Self.decodeStrings(container, .selector)
        includeExternal = try container.decode(Bool.self, forKey: .includeExternal)
        shared = try container.decode(Bool.self, forKey: .shared)
        clusterID = try container.decode(UInt32.self, forKey: .clusterID)
    }

    /// Go encodes a nil map as `null`; Cilium omits nothing here, but a missing map is empty too.
    private static func decodePortMap(_ container: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys) throws -> PortMap {
        guard container.contains(key), try !container.decodeNil(forKey: key) else { return [:] }
        let addresses = try container.nestedContainer(keyedBy: DataKey.self, forKey: key)
        var map: PortMap = [:]
        map.reserveCapacity(addresses.allKeys.count)
        for address in addresses.allKeys {
            guard try !addresses.decodeNil(forKey: address) else {
                map[address.stringValue] = [:]
                continue
            }
            let ports = try addresses.nestedContainer(keyedBy: DataKey.self, forKey: address)
            var byName: [String: PortAddress] = [:]
            for port in ports.allKeys {
                let fields = try ports.nestedContainer(keyedBy: PortAddress.CodingKeys.self, forKey: port)
                // Read wide and checked here: the decoder's own overflow error names no field.
                let number = try fields.decode(Int.self, forKey: .port)
                guard let portNumber = UInt16(exactly: number) else {
                    throw DecodingError.dataCorruptedError(forKey: .port, in: fields, debugDescription: "\(number) is not a port (0-65535)")
                }
                byName[port.stringValue] = PortAddress(proto: try fields.decode(String.self, forKey: .proto), port: portNumber)
            }
            map[address.stringValue] = byName
        }
        return map
    }

    private static func decodeStrings(_ container: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys) throws -> [String: String]? {
        guard container.contains(key), try !container.decodeNil(forKey: key) else { return nil }
        let object = try container.nestedContainer(keyedBy: DataKey.self, forKey: key)
        var strings: [String: String] = [:]
        for entry in object.allKeys { strings[entry.stringValue] = try object.decode(String.self, forKey: entry) }
        return strings
    }
}
