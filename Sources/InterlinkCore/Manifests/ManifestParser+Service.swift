import Yams

extension ManifestParser {
    static func parseService(_ root: Node.Mapping, context: inout Context, into set: inout ManifestSet) -> ServiceSpec? {
        let metadata = parseMetadata(root, reader: &context.reader)
        let annotations = metadata.map { context.reader.stringMap($0.metadata, "annotations", at: "metadata") } ?? [:]
        let parsedAnnotations = ServiceAnnotations.parse(annotations) { field, value, message in
            context.reader.problem(at: "metadata.annotations[\"\(field)\"]", node: nil, "\(value) \(message)")
        }

        guard let specNode = root["spec"] else {
            context.reader.problem(at: "spec", node: nil, "is missing: a Service needs spec.ports")
            return nil
        }
        guard let spec = context.reader.mapping(specNode, at: "spec") else { return nil }
        let shownName = metadata.map { "\($0.namespace)/\($0.name)" } ?? objectName(root)
        let type = context.reader.string(spec, "type", at: "spec", required: false) ?? "ClusterIP"
        switch type {
        case "ClusterIP":
            break
        case "ExternalName":
            skip(kind: "Service", name: shownName, reason: "type ExternalName is a DNS alias, with no L4 frontend to listen on, so its EndpointSlices are skipped too", context: &context, into: &set)
            return nil
        case "LoadBalancer", "NodePort":
            note(at: "spec.type", "Service \(shownName) is served as type ClusterIP: Interlink listens on its frontend address only, not on node ports or a cloud load balancer's addresses", context: context, into: &set)
        default:
            context.reader.problem(at: "spec.type", node: spec["type"], "\(type) is not a Service type: expected ClusterIP, NodePort, LoadBalancer or ExternalName")
            return nil
        }

        let frontend = parseFrontendAddress(spec, annotations: annotations, shownName: shownName, context: &context, into: &set)
        if case .skipped? = frontend { return nil }
        var sctp: [String] = []
        var ports = parseServicePorts(spec, reader: &context.reader, sctp: &sctp)
        if !sctp.isEmpty, ports != nil {
            let names = sctp.joined(separator: ", ")
            if context.options.strict {
                context.reader.problem(at: "spec.ports", node: spec["ports"], "\(names): SCTP is not served (Interlink proxies TCP and UDP); remove the port, or run without --strict to skip it")
                ports = nil
            } else if ports?.isEmpty == true {
                skip(kind: "Service", name: shownName, reason: "its only ports (\(names)) are SCTP, which Interlink does not proxy", context: &context, into: &set)
                return nil
            } else {
                note(at: "spec.ports", "Service \(shownName): \(names) not served: SCTP is not proxied; its TCP and UDP ports are", context: context, into: &set)
            }
        }
        let sessionAffinity = parseSessionAffinity(spec, reader: &context.reader)

        guard let metadata, let address = frontend?.address, let ports, let sessionAffinity, let parsedAnnotations else { return nil }
        if let problem = ServiceSpec.udpHealthCheckProblem(parsedAnnotations.healthCheck, annotations: annotations, ports: ports) {
            context.reader.problem(at: "metadata.annotations[\"\(ServiceAnnotations.healthCheck)\"]", node: nil, problem)
            return nil
        }
        var service = ServiceSpec(
            name: ServiceName(namespace: metadata.namespace, name: metadata.name), clusterIP: address, ports: ports,
            isGlobal: parsedAnnotations.isGlobal, isShared: parsedAnnotations.isShared, affinity: parsedAnnotations.affinity,
            algorithm: parsedAnnotations.algorithm, sessionAffinity: sessionAffinity, healthCheck: parsedAnnotations.healthCheck,
            routing: parsedAnnotations.routing,
            annotations: annotations)
        service.udpFlowTimeout = parsedAnnotations.udpFlowTimeout
        return service
    }

    /// The address a Service listens on, first found of: `interlink.io/frontend`,
    /// `spec.clusterIP`, the agent's `--default-frontend`. A headless Service (`clusterIP:
    /// None`) without the annotation is skipped (`.skipped`); nil after a problem.
    enum FrontendAddress {
        case address(IPAddress)
        case skipped

        var address: IPAddress? {
            if case .address(let ip) = self { return ip }
            return nil
        }
    }

    static func parseFrontendAddress(
        _ spec: Node.Mapping, annotations: [String: String], shownName: String, context: inout Context, into set: inout ManifestSet
    ) -> FrontendAddress? {
        let annotationField = "metadata.annotations[\"\(ServiceAnnotations.frontend)\"]"
        if let text = annotations[ServiceAnnotations.frontend] {
            guard let ip = IPAddress(text.trimmingSpaces()) else {
                context.reader.problem(at: annotationField, node: nil, "\(text.isEmpty ? "(empty)" : text) is not an IP address: expected an IPv4 or IPv6 address such as 127.0.0.10 (the Service's ports listen on it)")
                return nil
            }
            return .address(ip)
        }
        let text = context.reader.string(spec, "clusterIP", at: "spec", required: false) ?? ""
        if text == "None" {
            skip(kind: "Service", name: shownName, reason: "clusterIP None (a headless Service) has no L4 frontend to listen on, so its EndpointSlices are skipped too; give it one with the annotation \(ServiceAnnotations.frontend): ADDR to serve it", context: &context, into: &set)
            return .skipped
        }
        if !text.isEmpty {
            guard let ip = IPAddress(text) else {
                context.reader.problem(at: "spec.clusterIP", node: spec["clusterIP"], "\(text) is not an IP address: expected an IPv4 or IPv6 address such as 127.0.0.10")
                return nil
            }
            return .address(ip)
        }
        if let fallback = context.options.defaultFrontend { return .address(fallback) }
        context.reader.problem(at: "spec.clusterIP", node: nil, "is missing, so Service \(shownName) has no frontend address: add the annotation \(ServiceAnnotations.frontend): ADDR to the Service, or start the agent with --default-frontend ADDR (validate and apply take it too)")
        return nil
    }

    /// The TCP and UDP ports; the SCTP ones are named in `sctp` (`port 9`, or its name), left out.
    static func parseServicePorts(_ spec: Node.Mapping, reader: inout FieldReader, sctp: inout [String]) -> [ServicePort]? {
        guard let portsNode = spec["ports"], !FieldReader.isNull(portsNode) else {
            reader.problem(at: "spec.ports", node: nil, "is missing: a Service needs at least one port")
            return nil
        }
        guard let list = reader.sequence(portsNode, at: "spec.ports") else { return nil }
        if list.isEmpty {
            reader.problem(at: "spec.ports", node: portsNode, "is empty: a Service needs at least one port")
            return nil
        }
        var ports: [ServicePort] = []
        var valid = true
        var names: Set<String> = []
        for (index, node) in list.enumerated() {
            let field = "spec.ports[\(index)]"
            guard let entry = reader.mapping(node, at: field) else { valid = false; continue }
            let name = reader.string(entry, "name", at: field, required: false) ?? ""
            if name.isEmpty, list.count > 1 {
                reader.problem(at: "\(field).name", node: nil, "is missing: every port needs a name when a Service has several ports")
                valid = false
            } else if !names.insert(name).inserted {
                reader.problem(at: "\(field).name", node: entry["name"], "\(name) is used by another port: port names must be unique")
                valid = false
            }
            let port = reader.integer(entry, "port", at: field, required: true, in: 1...65535, what: "a port number")
            let protocolName = reader.string(entry, "protocol", at: field, required: false) ?? "TCP"
            let transport = TransportProtocol(rawValue: protocolName)
            if transport == nil, protocolName != "SCTP" {
                reader.problem(at: "\(field).protocol", node: entry["protocol"], "\(protocolName) is not a protocol: expected TCP, UDP or SCTP")
                valid = false
            }
            var targetPort: TargetPort?
            if let text = reader.string(entry, "targetPort", at: field, required: false) {
                if let number = Int(text) {
                    if (1...65535).contains(number) {
                        targetPort = .number(UInt16(number))
                    } else {
                        reader.problem(at: "\(field).targetPort", node: entry["targetPort"], "\(text) is not a port number (1-65535) or port name")
                    }
                } else if isDNSLabel(text), text.count <= 15 {
                    targetPort = .name(text)
                } else {
                    reader.problem(at: "\(field).targetPort", node: entry["targetPort"], "\(text) is not a port number (1-65535) or port name (at most 15 lowercase letters, digits and '-')")
                }
            } else if let port {
                targetPort = .number(UInt16(port))
            }
            let appProtocol = reader.string(entry, "appProtocol", at: field, required: false).map { String($0.prefix(253)) }
            if protocolName == "SCTP", let port, targetPort != nil {
                sctp.append(name.isEmpty ? "port \(port)" : "port \(name)")
                continue
            }
            guard let port, let targetPort, let transport else { valid = false; continue }
            ports.append(ServicePort(name: name, port: UInt16(port), targetPort: targetPort, transport: transport, appProtocol: appProtocol))
        }
        return valid ? ports : nil
    }

    static func parseSessionAffinity(_ spec: Node.Mapping, reader: inout FieldReader) -> SessionAffinity? {
        let mode = reader.string(spec, "sessionAffinity", at: "spec", required: false) ?? "None"
        switch mode {
        case "None":
            return SessionAffinity.none
        case "ClientIP":
            var timeout = SessionAffinity.defaultTimeout
            if let configNode = spec["sessionAffinityConfig"], let config = reader.mapping(configNode, at: "spec.sessionAffinityConfig"),
               let clientNode = config["clientIP"], let client = reader.mapping(clientNode, at: "spec.sessionAffinityConfig.clientIP")
            {
                if client["timeoutSeconds"] != nil {
                    guard let seconds = reader.integer(client, "timeoutSeconds", at: "spec.sessionAffinityConfig.clientIP", required: false, in: 1...86400, what: "a timeout in seconds") else {
                        return nil
                    }
                    timeout = .seconds(seconds)
                }
            }
            return .clientIP(timeout: timeout)
        default:
            reader.problem(at: "spec.sessionAffinity", node: spec["sessionAffinity"], "\(mode) is not valid: expected None or ClientIP")
            return nil
        }
    }
}
