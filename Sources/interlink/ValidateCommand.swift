import ArgumentParser
import InterlinkAgent
import InterlinkCore

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check manifests without starting anything.",
        discussion: "Prints every problem with file, document, field, value and what is allowed. Exit 0 when valid, 2 when not."
    )

    @Argument(help: "A manifest file, or a directory whose *.yaml / *.yml files are read.")
    var path: String

    func run() throws {
        do {
            let set = try ManifestLoader.load(path: path)
            let services = set.localServices(cluster: try ClusterName("default"))
            let backends = services.reduce(0) { $0 + $1.ports.reduce(0) { $0 + $1.backends.count } }
            print("\(path): valid: \(set.services.count) Service(s), \(set.slices.count) EndpointSlice(s), \(backends) backend(s)")
            for service in services {
                for port in service.ports {
                    let global = service.spec.isGlobal ? " global affinity=\(service.spec.affinity.rawValue)" : ""
                    print("  \(service.spec.name) \(port.frontend) -> \(port.backends.count) backend(s)\(global)")
                }
            }
        } catch let errors as ManifestErrors {
            printError(errors.description)
            throw ExitCode(2)
        }
    }
}
