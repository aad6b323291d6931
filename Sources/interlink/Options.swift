import ArgumentParser
import InterlinkCore
import Logging

extension SocketEndpoint: ExpressibleByArgument {
    public init?(argument: String) {
        self.init(argument)
    }
}

/// Parses a duration option, naming the option and the value in the error.
func parseDuration(_ text: String, option: String) throws -> Duration {
    do {
        let value = try DurationText.parse(text)
        guard value > .zero else { throw ValidationError("\(option): \(text) must be above 0") }
        return value
    } catch let error as InvalidValue {
        throw ValidationError("\(option): \(error)")
    }
}

struct LoggingOptions: ParsableArguments {
    @Option(help: "Log level: trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    func makeLogger(label: String) throws -> Logger {
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("--log-level: \(logLevel) is not a level: expected trace, debug, info, notice, warning, error or critical")
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        return Logger(label: label)
    }
}

/// How manifests are read: `--default-frontend` and `--strict` (agent, validate).
struct ManifestReadingOptions: ParsableArguments {
    @Option(help: "The frontend address of Services that have neither a clusterIP nor the annotation interlink.io/frontend (as in manifests written for Kubernetes).")
    var defaultFrontend: String?

    @Flag(help: "Refuse objects Interlink would skip (other kinds, headless and ExternalName Services, FQDN EndpointSlices) instead of skipping them.")
    var strict = false

    /// The options, checked: a bad address is a usage error naming the option.
    func options() throws -> ManifestOptions {
        var options = ManifestOptions(strict: strict)
        if let text = defaultFrontend {
            guard let address = IPAddress(text) else {
                throw ValidationError("--default-frontend: \(text) is not an IP address: expected an IPv4 or IPv6 address such as 127.0.0.10")
            }
            options.defaultFrontend = address
        }
        return options
    }
}
