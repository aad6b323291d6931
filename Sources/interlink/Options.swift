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
