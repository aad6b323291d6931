import Foundation
import InterlinkAPI
import InterlinkCore

/// Reads manifests from a file, a directory (every `*.yaml`, `*.yml` and `*.json` below it, in
/// name order) or standard input (`-`), as kubectl's `-f` does.
public enum ManifestLoader {
    /// The largest manifest file read, as for `POST /v1/manifests`.
    public static let maximumFileBytes = 16 << 20
    /// The path that means standard input.
    public static let standardInput = "-"

    /// The time now as RFC 3339 (to the second), for ServiceExports without a creation time.
    public static func nowText() -> String {
        rfc3339(Date())
    }

    /// `date` as RFC 3339, to the second.
    static func rfc3339(_ date: Date) -> String {
        RFC3339Time.text(milliseconds: Int64(date.timeIntervalSince1970 * 1000))
    }

    /// The validated manifests; throws `ManifestErrors` listing every problem of every file.
    public static func load(path: String, options: ManifestOptions = ManifestOptions()) throws -> ManifestSet {
        try load(files: try readFiles(at: path), options: options)
    }

    /// The manifests of files already read (name and text); throws `ManifestErrors`.
    public static func load(files: [ManifestFile], options: ManifestOptions = ManifestOptions()) throws -> ManifestSet {
        var set = ManifestSet()
        var problems: [ManifestProblem] = []
        for file in files {
            let (parsed, fileProblems) = ManifestParser.parse(yaml: file.yaml, file: file.name, options: options)
            set.merge(parsed)
            problems += fileProblems
        }
        problems += set.crossDocumentProblems()
        guard problems.isEmpty else { throw ManifestErrors(problems) }
        return set
    }

    /// Every manifest file at `path` with its text (`-`: standard input, named `(stdin)`);
    /// throws `ManifestErrors` naming each file that cannot be read.
    public static func readFiles(at path: String) throws -> [ManifestFile] {
        if path == standardInput {
            do {
                return [ManifestFile(name: "(stdin)", yaml: try text(of: FileHandle.standardInput))]
            } catch {
                throw ManifestErrors([ManifestProblem(file: "(stdin)", document: nil, field: "", message: "\(error)")])
            }
        }
        var files: [ManifestFile] = []
        var problems: [ManifestProblem] = []
        for file in try manifestFiles(at: path) {
            do {
                files.append(ManifestFile(name: file, yaml: try readText(file)))
            } catch {
                problems.append(ManifestProblem(file: file, document: nil, field: "", message: "\(error)"))
            }
        }
        guard problems.isEmpty else { throw ManifestErrors(problems) }
        return files
    }

    /// A file's text: at most `maximumFileBytes` (read no further, so a device or a growing
    /// file cannot exhaust memory), valid UTF-8.
    static func readText(_ path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw LoadError("cannot be opened for reading: check that it exists and its permissions") }
        defer { try? handle.close() }
        return try text(of: handle)
    }

    static func text(of handle: FileHandle) throws -> String {
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
            throw ManifestErrors([ManifestProblem(file: path, document: nil, field: "", message: "does not exist: pass a manifest file, a directory of *.yaml / *.yml / *.json files, or - for standard input")])
        }
        guard isDirectory.boolValue else { return [path] }
        let base = path.hasSuffix("/") ? String(path.dropLast()) : path
        guard let enumerator = FileManager.default.enumerator(atPath: base) else { return [] }
        var files: [String] = []
        for case let relative as String in enumerator where isManifestName(relative) {
            files.append("\(base)/\(relative)")
        }
        guard !files.isEmpty else {
            throw ManifestErrors([ManifestProblem(file: path, document: nil, field: "", message: "holds no *.yaml, *.yml or *.json file")])
        }
        return files.sorted()
    }

    /// A file a directory of manifests is read for; hidden files (an editor's swap file, a
    /// `kubectl` loop's temporary file) are not.
    static func isManifestName(_ relative: String) -> Bool {
        let name = relative.split(separator: "/").last.map(String.init) ?? relative
        guard !name.hasPrefix(".") else { return false }
        return name.hasSuffix(".yaml") || name.hasSuffix(".yml") || name.hasSuffix(".json")
    }
}
