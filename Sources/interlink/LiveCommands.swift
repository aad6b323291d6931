import ArgumentParser
import Foundation
import InterlinkAPI
import InterlinkAgent
import InterlinkCore

struct AnnotateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "annotate",
        abstract: "Change a service's annotations live, as kubectl annotate does; kept in the cluster's store.",
        discussion: """
            KEY=VALUE sets an annotation, KEY- removes it. Invalid values change nothing and are \
            named. New connections follow within milliseconds; open ones are left alone.

            Examples:
              interlink annotate service default/echo service.cilium.io/affinity=remote   # maintenance
              interlink annotate service default/echo service.cilium.io/affinity-         # back to none
            """)

    @Argument(help: "What to annotate: service.")
    var kind: String

    @Argument(help: "The service, as NAMESPACE/NAME.")
    var service: String

    @Argument(help: "KEY=VALUE to set, KEY- to remove.")
    var changes: [String]

    @OptionGroup var apiOptions: APIOptions

    func validate() throws {
        try validateServiceTarget(kind: kind, service: service, usage: "only services can be annotated: interlink annotate service NAMESPACE/NAME KEY=VALUE")
        guard !changes.isEmpty else { throw ValidationError("give at least one KEY=VALUE or KEY-") }
        for change in changes where !(change.contains("=") || change.hasSuffix("-")) {
            throw ValidationError("\(change): expected KEY=VALUE to set or KEY- to remove")
        }
    }

    func run() async throws {
        var set: [String: String] = [:]
        var remove: [String] = []
        for change in changes {
            if let equals = change.firstIndex(of: "=") {
                set[String(change[..<equals])] = String(change[change.index(after: equals)...])
            } else {
                remove.append(String(change.dropLast()))
            }
        }
        let (status, body) = try await apiOptions.client().send(.POST, "/v1/services/\(service)/annotations", body: AnnotateRequest(set: set, remove: remove))
        guard status == 200 else { throw AgentClientError("not changed: \(body)") }
        let answer = try? JSONDecoder().decode(AnnotateAnswer.self, from: Data(body.utf8))
        let persisted = answer?.persisted == true ? "" : " (not saved: the agent has no kvstore, so it lasts until the agent stops)"
        print("service/\(service) annotated\(persisted)")
    }
}

struct DrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drain",
        abstract: "Take a backend out of new traffic without stopping it (open connections go on).",
        discussion: "Example: interlink drain backend 127.0.1.11:9000; undo with interlink undrain backend 127.0.1.11:9000")

    @OptionGroup var target: BackendTarget

    func run() async throws { try await setDrained(target, true) }
}

struct UndrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "undrain",
        abstract: "Put a drained backend back into rotation.",
        discussion: "Example: interlink undrain backend 127.0.1.11:9000")

    @OptionGroup var target: BackendTarget

    func run() async throws { try await setDrained(target, false) }
}

/// `backend IP:PORT` and the agent to ask, as `drain` and `undrain` take them.
struct BackendTarget: ParsableArguments {
    @Argument(help: "What to change: backend.")
    var kind: String

    @Argument(help: "The backend address, IP:PORT.")
    var address: String

    @OptionGroup var apiOptions: APIOptions

    func validate() throws {
        guard kind == "backend" else { throw ValidationError("only backends can be drained or undrained: interlink drain backend IP:PORT") }
    }
}

/// `service NAMESPACE/NAME`, as `annotate` and `delete` take it (kubectl's spellings of the kind).
private func validateServiceTarget(kind: String, service: String, usage: String) throws {
    guard ["service", "services", "svc"].contains(kind) else { throw ValidationError(usage) }
    guard service.split(separator: "/").count == 2 else { throw ValidationError("\(service): give the service as NAMESPACE/NAME, e.g. default/echo") }
}

private func setDrained(_ target: BackendTarget, _ isDrained: Bool) async throws {
    let address = target.address
    let (status, body) = try await target.apiOptions.client().send(.POST, isDrained ? "/v1/backends/drain" : "/v1/backends/undrain", body: DrainRequest(address: address))
    guard status == 200 else { throw AgentClientError("not changed: \(body)") }
    print("backend \(address) \(isDrained ? "drained: no new connections" : "back in rotation")")
}

struct ApplyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Add or change Services and EndpointSlices live, as kubectl apply does; kept in the cluster's store.",
        discussion: """
            Every file is checked here first, then the agent checks them with the manifests in \
            force: with any problem, nothing changes and every problem is listed. New frontends \
            start listening; open connections are never cut.

            Example: interlink apply -f examples/mesh/east.yaml
                     kubectl get svc,endpointslices -n shop -o yaml | interlink apply -f -
            """)

    @Option(name: .shortAndLong, help: "A manifest file, a directory of *.yaml / *.yml / *.json files, or - for standard input.")
    var filename: String

    @Flag(help: "Refuse objects Interlink would skip (other kinds, headless and ExternalName Services, FQDN EndpointSlices).")
    var strict = false

    @OptionGroup var apiOptions: APIOptions

    func run() async throws {
        // The agent checks the files with its own --default-frontend and the manifests in
        // force, and names every problem by file; only files that cannot be read stop here.
        let files: [ManifestFile]
        do {
            files = try ManifestLoader.readFiles(at: filename)
        } catch let errors as ManifestErrors {
            printError(errors.description)
            printError("interlink apply: nothing changed")
            throw ExitCode(2)
        }
        let (status, body) = try await apiOptions.client().send(.POST, "/v1/manifests", body: ApplyRequest(files: files, strict: strict ? true : nil))
        guard status == 200 else {
            if status == 400 {
                printError(body)
                throw ExitCode(2)
            }
            throw AgentClientError(body)
        }
        let answer = try? JSONDecoder().decode(ApplyAnswer.self, from: Data(body.utf8))
        for entry in answer?.applied ?? [] { print("service/\(entry.service) \(entry.action)") }
        for line in answer?.report ?? [] { print(line) }
    }
}

struct DeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Remove a service live (its frontend stops listening; open connections go on).",
        discussion: "Example: interlink delete service default/echo")

    @OptionGroup var target: ServiceTarget

    func validate() throws {
        try target.validate(verb: "deleted", command: "delete")
    }

    func run() async throws {
        let service = target.service
        let (status, body) = try await target.apiOptions.client().send(.DELETE, "/v1/services/\(service)")
        guard status == 200 else { throw AgentClientError(body) }
        print("service/\(service) deleted")
    }
}

struct RevertCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revert",
        abstract: "Drop a service's live changes (apply, delete, annotate): the manifest files' version is in force again.",
        discussion: """
            The agent's --manifests files are the base; live changes win over them until \
            reverted. interlink status lists the changes in force.

            Example: interlink revert service default/echo
            """)

    @OptionGroup var target: ServiceTarget

    func validate() throws {
        try target.validate(verb: "reverted", command: "revert")
    }

    func run() async throws {
        let service = target.service
        let (status, body) = try await target.apiOptions.client().send(.POST, "/v1/services/\(service)/revert", body: [String: String]())
        guard status == 200 else { throw AgentClientError(body) }
        print("service/\(service) reverted to the manifest files")
    }
}

/// `service NAMESPACE/NAME` and the agent to ask, as `delete` and `revert` take them.
struct ServiceTarget: ParsableArguments {
    @Argument(help: "What to change: service.")
    var kind: String

    @Argument(help: "The service, as NAMESPACE/NAME.")
    var service: String

    @OptionGroup var apiOptions: APIOptions

    func validate(verb: String, command: String) throws {
        try validateServiceTarget(kind: kind, service: service, usage: "only services can be \(verb): interlink \(command) service NAMESPACE/NAME")
    }
}
