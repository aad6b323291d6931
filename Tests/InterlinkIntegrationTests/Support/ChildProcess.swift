import Foundation
import Synchronization

/// Runs child processes for the tests without blocking Swift's cooperative threads and without
/// Foundation's pipe reads, which trap on `EINTR` (`FileHandle.availableData` and
/// `readDataToEndOfFile` use `try!`): the pipes are read with read(2) on threads of their own,
/// retried when a signal interrupts them, and the caller awaits the result.
enum ChildProcess {
    struct Output: Sendable {
        var status: Int32
        var stdout: Data
        var stderr: Data
    }

    /// Starts `process` with `input` on its standard input, reads its standard output and error
    /// to their end, waits for it to exit, and returns all three.
    static func run(_ process: Process, input: Data? = nil) async throws -> Output {
        let out = Pipe(), err = Pipe()
        let stdin = input.map { _ in Pipe() }
        process.standardOutput = out
        process.standardError = err
        if let stdin { process.standardInput = stdin }
        let exited = Exit()
        process.terminationHandler = { process in exited.finish(process.terminationStatus) }
        try process.run()
        if let stdin, let input {
            writeAll(input, to: stdin.fileHandleForWriting.fileDescriptor)
            try? stdin.fileHandleForWriting.close()
        }
        async let stdout = readToEnd(out)
        async let stderr = readToEnd(err)
        let (outData, errData) = await (stdout, stderr)
        let status = await exited.status()
        return Output(status: status, stdout: outData, stderr: errData)
    }

    /// Everything written to `pipe` until every writer has closed it, read on a thread of its own.
    static func readToEnd(_ pipe: Pipe) async -> Data {
        let descriptor = pipe.fileHandleForReading.fileDescriptor
        return await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                var data = Data()
                readChunks(descriptor) { data.append($0) }
                continuation.resume(returning: data)
            }
        }
    }

    /// Calls `body` with each chunk read from `descriptor` until its end (or an error other
    /// than `EINTR`); blocks the calling thread.
    static func readChunks(_ descriptor: Int32, _ body: (Data) -> Void) {
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count > 0 {
                body(Data(buffer[0..<count]))
            } else if count < 0, errno == EINTR {
                continue
            } else {
                return
            }
        }
    }

    /// Writes all of `data` to `descriptor`, retrying when a signal interrupts the write.
    static func writeAll(_ data: Data, to descriptor: Int32) {
        data.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if written > 0 {
                    offset += written
                } else if written < 0, errno == EINTR {
                    continue
                } else {
                    return
                }
            }
        }
    }

    /// A process's exit status, set once by its termination handler and awaited.
    final class Exit: Sendable {
        private let state = Mutex<(status: Int32?, waiting: [CheckedContinuation<Int32, Never>])>((nil, []))

        func finish(_ status: Int32) {
            let waiting = state.withLock { state in
                state.status = status
                defer { state.waiting = [] }
                return state.waiting
            }
            for continuation in waiting { continuation.resume(returning: status) }
        }

        func status() async -> Int32 {
            await withCheckedContinuation { continuation in
                let known = state.withLock { state -> Int32? in
                    if let status = state.status { return status }
                    state.waiting.append(continuation)
                    return nil
                }
                if let known { continuation.resume(returning: known) }
            }
        }
    }
}
