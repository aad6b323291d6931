import ArgumentParser
import Foundation
import InterlinkAPI
import InterlinkAgent
import Yams

struct ServicesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "services",
        abstract: "List services with every backend: its cluster, state, health, and whether it takes new connections.",
        discussion: "Examples: interlink services; interlink services default/echo -o yaml (an exported service prints its MCS-API ServiceImport)")

    @Argument(help: "Only this service, as NAMESPACE/NAME.")
    var service: String?

    @OptionGroup var apiOptions: APIOptions

    @Option(name: .shortAndLong, help: "Output: table, json or yaml.")
    var output: OutputFormat = .table

    func run() async throws {
        var document: ServicesDocument = try await apiOptions.client().get("/v1/services")
        if let service {
            document.services = document.services.filter { "\($0.namespace)/\($0.name)" == service }
            guard !document.services.isEmpty else { throw AgentClientError("no service \(service) on this agent (list them with: interlink services)") }
        }
        // One exported service as YAML: its ServiceImport, as the MCS-API shows it.
        if service != nil, output == .yaml, let found = document.services.first, let clusterSet = found.clusterSet {
            print(try YAMLEncoder().encode(ServiceImportObject(service: found, clusterSet: clusterSet)), terminator: "")
            return
        }
        switch output {
        case .json: print(try jsonText(document))
        case .yaml: print(try YAMLEncoder().encode(document), terminator: "")
        case .table: print(render(document))
        }
    }

    func render(_ document: ServicesDocument) -> String {
        var blocks: [String] = []
        for service in document.services {
            var traits = [service.global ? "global" : "not global"]
            if service.global { traits += [service.shared ? "shared" : "not shared", "affinity=\(service.affinity)"] }
            traits.append("lb=\(service.algorithm)")
            if let policy = service.routing?.summary, !policy.isEmpty { traits.append(policy) }
            var clusterSetLine = ""
            if let clusterSet = service.clusterSet {
                traits.append("exported (ServiceExport)")
                let conflict = clusterSet.conflict.map { "Conflict=True (\($0.reason)): \($0.message)" } ?? "Conflict=False"
                clusterSetLine = "\n  cluster set: \(clusterSet.clusters.joined(separator: ", ")) (oldest export: \(clusterSet.oldestCluster)); \(conflict)"
            }
            for frontend in service.frontends {
                var rows = [["CLUSTER", "ADDRESS", "STATE", "HEALTH", "ELIGIBLE", "SHARE", "ACTIVE", "TOTAL"]]
                for backend in frontend.backends {
                    rows.append([
                        backend.cluster, backend.address, backend.state, backend.health,
                        backend.eligible ? "yes" : "no: \(backend.reason ?? "")",
                        backend.share.map(percentText) ?? "-",
                        "\(backend.activeConnections)", "\(backend.totalConnections)",
                    ])
                }
                var block = "\(service.namespace)/\(service.name)  \(frontend.address)\(frontend.protocol == "UDP" ? "/UDP" : "") (\(frontend.portName))  \(traits.joined(separator: ", "))\(clusterSetLine)"
                if let tiers = frontend.tiers, tiers.count > 1 || frontend.panic == true {
                    block += "\n  tiers: " + tiers.map(\.summary).joined(separator: " -> ")
                    if frontend.panic == true { block += "  PANIC: no healthy backend, trying all" }
                }
                blocks.append(block + "\n" + table(rows, indent: "  "))
            }
        }
        return blocks.isEmpty ? "no services" : blocks.joined(separator: "\n\n")
    }
}

/// `62.5%` for 0.625, `0%`, `100%`.
func percentText(_ share: Double) -> String {
    let percent = share * 100
    return percent == percent.rounded() ? "\(Int(percent))%" : String(format: "%.1f%%", percent)
}

struct ExplainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Say why a service's new connections go where they go, and since when.",
        discussion: "Example: interlink explain default/echo")

    @Argument(help: "The service, as NAMESPACE/NAME.")
    var service: String

    @OptionGroup var apiOptions: APIOptions

    func run() async throws {
        let document: ServicesDocument = try await apiOptions.client().get("/v1/services")
        guard let found = document.services.first(where: { "\($0.namespace)/\($0.name)" == service }) else {
            throw AgentClientError("no service \(service) on this agent (list them with: interlink services)")
        }
        if let policy = found.routing?.summary, !policy.isEmpty { print("policy: \(policy)") }
        for frontend in found.frontends {
            print("\(service) \(frontend.address) in \(document.cluster.name): \(frontend.explanation)")
            if let tiers = frontend.tiers, tiers.count > 1 {
                print("  tiers: " + tiers.map(\.summary).joined(separator: " -> "))
            }
        }
        if let change = found.lastChange {
            let age = Date().timeIntervalSince1970 - change.timestamp
            let cluster = change.cluster.map { " (\($0))" } ?? ""
            let backend = change.backend.flatMap { change.detail.contains($0) ? nil : " \($0)" } ?? ""
            print("since \(change.time) (\(ageText(age)) ago): \(change.kind)\(cluster)\(backend): \(change.detail)")
        } else {
            print("unchanged since the agent started")
        }
    }
}
