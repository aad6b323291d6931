import Foundation
import InterlinkCore

/// Reads manifests from a file or a directory (every `*.yaml` / `*.yml` below it, in name order).
public enum ManifestLoader {
    /// The largest manifest file read, as for `POST /v1/manifests`.
    public static let maximumFileBytes = 16 << 20

    /// The validated manifests; throws `ManifestErrors` listing every problem of every file.
    public static func load(path: String) throws -> ManifestSet {
        let files = try manifestFiles(at: path)
        var set = ManifestSet()
        var problems: [ManifestProblem] = []
        for file in files {
            let text: String
            do {
                text = try readText(file)
            } catch {
                problems.append(ManifestProblem(file: file, document: nil, field: "", message: "\(error)"))
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

    /// A file's text: at most `maximumFileBytes` (read no further, so a device or a growing
    /// file cannot exhaust memory), valid UTF-8.
    static func readText(_ path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw LoadError("cannot be opened for reading: check that it exists and its permissions") }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: maximumFileBytes + 1)) ?? Data()
        guard data.count <= maximumFileBytes else { throw LoadError("is larger than \(maximumFileBytes >> 20) MiB: split it into several files") }
        guard let text = String(data: data, encoding: .utf8) else { throw LoadError("is not UTF-8 text") }
        return text
    }

    struct LoadError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
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
