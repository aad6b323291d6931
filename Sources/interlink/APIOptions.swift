import ArgumentParser
import Foundation

/// How a client command reaches its agent: `--api URL`, else `INTERLINK_API`, else the default.
struct APIOptions: ParsableArguments {
    static let defaultURL = "http://127.0.0.1:9876"

    @Option(help: "The agent's API URL (default: INTERLINK_API, else http://127.0.0.1:9876).")
    var api: String?

    @OptionGroup var tokenOption: APITokenOption

    func client() throws -> AgentClient {
        let url = api ?? ProcessInfo.processInfo.environment["INTERLINK_API"].flatMap { $0.isEmpty ? nil : $0 } ?? Self.defaultURL
        guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
            throw ValidationError("--api: \(url) is not an http:// URL, e.g. http://127.0.0.1:9876")
        }
        return AgentClient(url, token: try tokenOption.token())
    }
}

/// `-o table|json|yaml`.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json, yaml
}

/// Relative age such as `3s`, `2m10s`, `1h4m`.
func ageText(_ seconds: Double) -> String {
    let total = Int(seconds.rounded())
    if total < 60 { return "\(total)s" }
    if total < 3600 { return "\(total / 60)m\(total % 60)s" }
    return "\(total / 3600)h\((total % 3600) / 60)m"
}

/// Left-aligned columns, two spaces apart.
func table(_ rows: [[String]], indent: String = "") -> String {
    guard let width = rows.map(\.count).max() else { return "" }
    var widths = Array(repeating: 0, count: width)
    for row in rows { for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) } }
    return rows.map { row in
        indent + row.enumerated().map { index, cell in
            index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
        }.joined(separator: "  ")
    }.joined(separator: "\n")
}
