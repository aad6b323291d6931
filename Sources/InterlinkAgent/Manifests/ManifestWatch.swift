import Foundation
import InterlinkAPI
import InterlinkCore
import ServiceLifecycle

/// Watches `--manifests`: every `interval` it looks at the files' size, modification time and
/// inode (cheap), and only when one of those changed, or a file came or went, reads them all
/// and hands them to `LiveChanges.reloadFiles`, which applies them as a whole or rejects them.
/// A file rewritten in place shows up within `interval` plus the reload.
struct ManifestWatch: Service {
    let path: String
    let live: LiveChanges
    var interval: Duration = .milliseconds(250)
    /// `stamp(path)` when the agent read the files at start.
    let initialStamp: [String]
    /// The files as the agent read them at start.
    let initialFiles: [ManifestFile]

    func run() async throws {
        await cancelWhenGracefulShutdown {
            var lastStamp = initialStamp
            var lastTexts: [ManifestFile]? = initialFiles
            while (try? await Task.sleep(for: interval)) != nil {
                let stamp = Self.stamp(path)
                guard stamp != lastStamp else { continue }
                lastStamp = stamp
                do {
                    let files = try ManifestLoader.readFiles(at: path)
                    guard files != lastTexts else { continue }  // touched, not changed
                    lastTexts = files
                    await live.reloadFiles(files)
                } catch let errors as ManifestErrors {
                    lastTexts = nil
                    await live.filesUnreadable(errors)
                } catch {
                    lastTexts = nil
                    await live.filesUnreadable(ManifestErrors([ManifestProblem(file: path, document: nil, field: "", message: "\(error)")]))
                }
            }
        }
    }

    /// What changes when a manifest file is written, added, removed or replaced: each file's
    /// path, size, modification time and inode, in name order (empty when nothing is there).
    static func stamp(_ path: String) -> [String] {
        let files = (try? ManifestLoader.manifestFiles(at: path)) ?? []
        return files.map { file in
            var info = stat()
            guard stat(file, &info) == 0 else { return "\(file) missing" }
            return "\(file) \(info.st_size) \(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec) \(info.st_ino)"
        }
    }
}
