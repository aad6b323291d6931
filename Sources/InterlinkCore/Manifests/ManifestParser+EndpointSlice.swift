import Yams

extension ManifestParser {
    static let serviceNameLabel = "kubernetes.io/service-name"

    static func parseEndpointSlice(_ root: Node.Mapping, context: inout Context, into set: inout ManifestSet) -> EndpointSliceSpec? {
        if case .scalar(let type)? = root["addressType"], type.string == "FQDN" {
            skip(kind: "EndpointSlice", name: objectName(root), reason: "addressType FQDN lists host names, which Interlink does not resolve: give the backends as IPv4 or IPv6 slices", context: &context, into: &set)
            return nil
        }
        // Kubernetes allows a slice of no Service (managed by some other controller).
        if case .mapping(let metadata)? = root["metadata"], metadata["labels"].flatMap({ $0.mapping?[serviceNameLabel] }) == nil {
            skip(kind: "EndpointSlice", name: objectName(root), reason: "it has no label \(serviceNameLabel), so it belongs to no Service; label it with the Service's name to use it", context: &context, into: &set)
            return nil
        }
        return parseEndpointSlice(root, reader: &context.reader)
    }

    static func parseEndpointSlice(_ root: Node.Mapping, reader: inout FieldReader) -> EndpointSliceSpec? {
        let metadata = parseMetadata(root, reader: &reader)
        var serviceName: String?
        if let metadata {
            let labels = reader.stringMap(metadata.metadata, "labels", at: "metadata")
            serviceName = labels[serviceNameLabel]
            if serviceName == nil {
                reader.problem(at: "metadata.labels[\"\(serviceNameLabel)\"]", node: nil, "is missing: name the Service these endpoints belong to")
            } else if let name = serviceName, !isDNSLabel(name) {
                reader.problem(at: "metadata.labels[\"\(serviceNameLabel)\"]", node: nil, "\(name) is not a valid Service name")
                serviceName = nil
            }
        }

        var addressType: IPAddress.Family?
        if let text = reader.string(root, "addressType", at: "", required: true) {
            switch text {
            case "IPv4": addressType = .ipv4
            case "IPv6": addressType = .ipv6
            default: reader.problem(at: "addressType", node: root["addressType"], "\(text) is not valid: expected IPv4 or IPv6 (FQDN slices are skipped)")
            }
        }

        var endpoints: [EndpointSpec] = []
        var valid = true
        if let node = root["endpoints"], !FieldReader.isNull(node), let list = reader.sequence(node, at: "endpoints") {
            if list.count > maximumEndpointsPerSlice {
                reader.problem(at: "endpoints", node: node, "has \(list.count) entries: an EndpointSlice holds at most \(maximumEndpointsPerSlice) (Kubernetes' limit); split them over several slices")
                valid = false
            }
            for (index, entryNode) in list.enumerated() {
                if let endpoint = parseEndpoint(entryNode, field: "endpoints[\(index)]", addressType: addressType, reader: &reader) {
                    endpoints.append(endpoint)
                } else {
                    valid = false
                }
            }
        }

        var ports: [String: UInt16] = [:]
        if let node = root["ports"], !FieldReader.isNull(node), let list = reader.sequence(node, at: "ports") {
            if list.count > maximumPortsPerSlice {
                reader.problem(at: "ports", node: node, "has \(list.count) entries: an EndpointSlice has at most \(maximumPortsPerSlice) ports (Kubernetes' limit)")
                valid = false
            }
            for (index, entryNode) in list.enumerated() {
                let field = "ports[\(index)]"
                guard let entry = reader.mapping(entryNode, at: field) else { valid = false; continue }
                let name = reader.string(entry, "name", at: field, required: false) ?? ""
                let protocolName = reader.string(entry, "protocol", at: field, required: false) ?? "TCP"
                if TransportProtocol(rawValue: protocolName) == nil, protocolName != "SCTP" {
                    reader.problem(at: "\(field).protocol", node: entry["protocol"], "\(protocolName) is not a protocol: expected TCP, UDP or SCTP")
                    valid = false
                }
                if protocolName == "SCTP" { continue }  // an SCTP Service port is not served
                guard let port = reader.integer(entry, "port", at: field, required: true, in: 1...65535, what: "a port number") else {
                    valid = false
                    continue
                }
                if ports[name] != nil {
                    reader.problem(at: "\(field).name", node: entry["name"], "'\(name)' is used by another port: port names must be unique")
                    valid = false
                }
                ports[name] = UInt16(port)
            }
        }

        guard valid, let metadata, let serviceName, let addressType else { return nil }
        return EndpointSliceSpec(
            name: metadata.name, service: ServiceName(namespace: metadata.namespace, name: serviceName),
            addressType: addressType, endpoints: endpoints, ports: ports)
    }

    static func parseEndpoint(_ node: Node, field: String, addressType: IPAddress.Family?, reader: inout FieldReader) -> EndpointSpec? {
        guard let entry = reader.mapping(node, at: field) else { return nil }
        var addresses: [IPAddress] = []
        var valid = true
        if let listNode = entry["addresses"], let list = reader.sequence(listNode, at: "\(field).addresses") {
            if list.isEmpty {
                reader.problem(at: "\(field).addresses", node: listNode, "is empty: an endpoint needs at least one address")
                valid = false
            } else if list.count > maximumAddressesPerEndpoint {
                reader.problem(at: "\(field).addresses", node: listNode, "has \(list.count) entries: an endpoint has at most \(maximumAddressesPerEndpoint) addresses (Kubernetes' limit)")
                valid = false
            }
            for (index, addressNode) in list.enumerated() {
                let addressField = "\(field).addresses[\(index)]"
                let text = FieldReader.render(addressNode)
                guard let ip = IPAddress(text) else {
                    reader.problem(at: addressField, node: addressNode, "\(text) is not an IP address")
                    valid = false
                    continue
                }
                if let addressType, ip.family != addressType {
                    reader.problem(at: addressField, node: addressNode, "\(text) is an \(ip.family.rawValue) address but addressType is \(addressType.rawValue)")
                    valid = false
                    continue
                }
                addresses.append(ip)
            }
        } else if entry["addresses"] == nil {
            reader.problem(at: "\(field).addresses", node: nil, "is missing: an endpoint needs at least one address")
            valid = false
        }
        var ready: Bool?, serving: Bool?, terminating: Bool?
        if let conditionsNode = entry["conditions"], !FieldReader.isNull(conditionsNode),
           let conditions = reader.mapping(conditionsNode, at: "\(field).conditions")
        {
            ready = reader.boolean(conditions, "ready", at: "\(field).conditions")
            serving = reader.boolean(conditions, "serving", at: "\(field).conditions")
            terminating = reader.boolean(conditions, "terminating", at: "\(field).conditions")
        }
        let zone = reader.string(entry, "zone", at: field, required: false)
        let hostname = reader.string(entry, "hostname", at: field, required: false)
        var forZones: [String] = []
        if let hintsNode = entry["hints"], !FieldReader.isNull(hintsNode), let hints = reader.mapping(hintsNode, at: "\(field).hints"),
           let zonesNode = hints["forZones"], !FieldReader.isNull(zonesNode), let zones = reader.sequence(zonesNode, at: "\(field).hints.forZones")
        {
            // Kubernetes allows at most 8 (EndpointHints.forZones).
            if zones.count > 8 {
                reader.problem(at: "\(field).hints.forZones", node: zonesNode, "lists \(zones.count) zones: Kubernetes allows at most 8")
                valid = false
            }
            for (index, zoneNode) in zones.prefix(8).enumerated() {
                if let item = reader.mapping(zoneNode, at: "\(field).hints.forZones[\(index)]"),
                   let name = reader.string(item, "name", at: "\(field).hints.forZones[\(index)]", required: true)
                {
                    forZones.append(name)
                } else {
                    valid = false
                }
            }
        }
        guard valid else { return nil }
        return EndpointSpec(
            addresses: addresses, state: BackendState(ready: ready, serving: serving, terminating: terminating), zone: zone, hostname: hostname,
            forZones: forZones)
    }
}
