/// One problem found in a manifest: where it is, which field, the value and what is allowed.
///
/// Printed as `east/echo.yaml: document 2: spec.ports[0].port: 70000 is not a port number (1-65535)`.
public struct ManifestProblem: Error, Hashable, Sendable, CustomStringConvertible {
    public let file: String
    /// 1-based position of the YAML document in its file; nil for problems of the whole file.
    public let document: Int?
    /// 1-based line in the file, when known.
    public let line: Int?
    /// Field path such as `spec.ports[0].port`; empty for the document as a whole.
    public let field: String
    public let message: String

    public init(file: String, document: Int?, line: Int? = nil, field: String, message: String) {
        self.file = file
        self.document = document
        self.line = line
        self.field = field
        self.message = message
    }

    public var description: String {
        var text = file
        if let document { text += ": document \(document)" }
        if !field.isEmpty { text += ": \(field)" }
        text += ": \(message)"
        if let line { text += " (line \(line))" }
        return text
    }
}

/// All the problems of a set of manifests; thrown when any exists, so nothing is accepted partially.
///
/// Printed with the first `shownProblems`, then how many more there are.
public struct ManifestErrors: Error, Sendable, CustomStringConvertible {
    public static let shownProblems = 50
    public let problems: [ManifestProblem]

    public init(_ problems: [ManifestProblem]) {
        self.problems = problems
    }

    public var description: String {
        let plural = problems.count == 1 ? "problem" : "problems"
        var lines = ["\(problems.count) \(plural) in the manifests:"] + problems.prefix(Self.shownProblems).map { "  \($0)" }
        if problems.count > Self.shownProblems { lines.append("  … and \(problems.count - Self.shownProblems) more") }
        return lines.joined(separator: "\n")
    }
}
