/// libFuzzer's entry point for a program with its own `main` (LLVM ≥ 11).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// The input handler of this fuzz target, set once by `runFuzzer` before any input runs.
nonisolated(unsafe) private var handler: (UnsafeRawBufferPointer) -> Void = { _ in }

/// What libFuzzer calls for each input (it links against this name).
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    handler(UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size))
    return 0
}

/// Runs libFuzzer with `body` as the input handler. A SwiftPM debug build links an executable
/// with its `main` renamed to `TARGET_main` (so that tests could import it); each target's
/// `TARGET_main` calls this.
public func runFuzzer(
    _ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ body: @escaping (UnsafeRawBufferPointer) -> Void
) -> CInt {
    handler = body
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments, testOneInput)
}
