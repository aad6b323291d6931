import Foundation
import InterlinkCore

/// Reads manifests from a file or a directory (every `*.yaml` / `*.yml` below it, in name order).
public enum ManifestLoader {
    /// The validated manifests; throws `ManifestErrors` listing every problem of every file.
    public static func load(path: String) throws -> ManifestSet {
        let files = try manifestFiles(at: path)
        var set = ManifestSet()
        var problems: [ManifestProblem] = []
        for file in files {
            let text: String
            do {
                text = try String(contentsOfFile: file, encoding: .utf8)
            } catch {
                problems.append(ManifestProblem(file: file, document: nil, field: "", message: "cannot be read as UTF-8 text: \(error.localizedDescription)"))
                continue
            }
            let (parsed, fileProblems) = ManifestParser.parse(yaml: text, file: file)
            set.merge(parsed)
            problems += fileProblems
        }
        problems += set.crossDocumentProblems()
        guard problems.isEmpty else { throw ManifestErrors(problems) }
        return set
    }

    public static func manifestFiles(at path: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ManifestErrors([ManifestProblem(file: path, document: nil, field: "", message: "does not exist: pass a manifest file or a directory of *.yaml files")])
        }
        guard isDirectory.boolValue else { return [path] }
        let base = path.hasSuffix("/") ? String(path.dropLast()) : path
        guard let enumerator = FileManager.default.enumerator(atPath: base) else { return [] }
        var files: [String] = []
        for case let relative as String in enumerator where relative.hasSuffix(".yaml") || relative.hasSuffix(".yml") {
            files.append("\(base)/\(relative)")
        }
        guard !files.isEmpty else {
            throw ManifestErrors([ManifestProblem(file: path, document: nil, field: "", message: "holds no *.yaml or *.yml file")])
        }
        return files.sorted()
    }
}
