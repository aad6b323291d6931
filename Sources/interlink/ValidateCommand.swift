import ArgumentParser
import InterlinkAgent
import InterlinkCore

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check manifests without starting anything.",
        discussion: """
            Reads YAML or JSON as kubectl writes it: documents of their own, or a List's items. \
            Prints every problem with file, document, field, value and what is allowed; then, \
            once per file, the objects it skipped. Exit 0 when valid, 2 when not.

            Example: kubectl get svc,endpointslices,serviceexports -A -o yaml | interlink validate -
            """
    )

    @Argument(help: "A manifest file, a directory whose *.yaml / *.yml / *.json files are read, or - for standard input.")
    var path: String

    @OptionGroup var reading: ManifestReadingOptions

    func run() throws {
        let options = try reading.options()
        do {
            let set = try ManifestLoader.load(path: path, options: options)
            let services = set.localServices(cluster: try ClusterName("default"))
            let backends = services.reduce(0) { $0 + $1.ports.reduce(0) { $0 + $1.backends.count } }
            let exports = set.exports.isEmpty ? "" : ", \(set.exports.count) ServiceExport(s)"
            print("\(path): valid: \(set.services.count) Service(s), \(set.slices.count) EndpointSlice(s)\(exports), \(backends) backend(s)")
            for service in services {
                for port in service.ports {
                    let global = service.spec.isGlobal ? " global affinity=\(service.spec.affinity.rawValue)" : ""
                    let exported = service.spec.export != nil ? " exported (ServiceExport)" : ""
                    print("  \(service.spec.name) \(port.frontend) -> \(port.backends.count) backend(s)\(global)\(exported)")
                }
            }
            for line in set.readingReport() { print(line) }
        } catch let errors as ManifestErrors {
            printError(errors.description)
            throw ExitCode(2)
        }
    }
}
