import Foundation
import Synchronization

/// The `interlink` executable built next to this test bundle, run as a user would.
enum InterlinkProcess {
    static var executable: URL {
        let bundleDir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for dir in [bundleDir, bundleDir.deletingLastPathComponent(), Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent()] {
            let candidate = dir.appendingPathComponent("interlink")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return bundleDir.appendingPathComponent("interlink")
    }

    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs the agent as the unprivileged user `nobody` (uid and gid 65534, no groups), as a
    /// user would deploy it; the process ID stays the agent's (setpriv execs it).
    static let unprivileged = ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]

    /// Starts `interlink ARGS`, through `launcher` (a command that runs the rest, such as
    /// `unprivileged` or `prlimit`) when one is given; the caller waits for or signals it.
    static func start(_ arguments: [String], launcher: [String] = []) throws -> (Process, Pipe, Pipe) {
        let process = Process()
        if let command = launcher.first {
            process.executableURL = URL(fileURLWithPath: command)
            process.arguments = Array(launcher.dropFirst()) + [executable.path] + arguments
        } else {
            process.executableURL = executable
            process.arguments = arguments
        }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        return (process, out, err)
    }

    /// Runs `interlink ARGS` to completion.
    static func run(_ arguments: [String]) async throws -> Output {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let result = try await ChildProcess.run(process)
        return Output(status: result.status, stdout: String(decoding: result.stdout, as: UTF8.self), stderr: String(decoding: result.stderr, as: UTF8.self))
    }
}

/// Everything a process writes to a pipe, read as it comes (so that a chatty process never
/// blocks on a full pipe).
final class OutputCollector: Sendable {
    private final class Buffer: Sendable {
        let data = Mutex(Data())
    }
    private let buffer = Buffer()

    init(_ pipe: Pipe) {
        let descriptor = pipe.fileHandleForReading.fileDescriptor
        Thread.detachNewThread { [buffer, pipe] in
            ChildProcess.readChunks(descriptor) { chunk in buffer.data.withLock { $0.append(chunk) } }
            _ = pipe
        }
    }

    var text: String { buffer.data.withLock { String(decoding: $0, as: UTF8.self) } }
}
