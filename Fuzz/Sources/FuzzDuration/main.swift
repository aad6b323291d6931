import FuzzSupport
import InterlinkCore

/// Durations as every option and annotation reads them; what parses must format and parse
/// back.
@_cdecl("FuzzDuration_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv) { start, count in fuzz(UnsafeRawPointer(start), count) }
}

@_cdecl("LLVMFuzzerTestOneInput")
func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    guard let start else { return 0 }
    let text = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
    guard let duration = try? DurationText.parse(text) else { return 0 }
    precondition(duration <= DurationText.maximum, "\(text) parsed past the maximum")
    _ = try? DurationText.parse(DurationText.format(duration))
    return 0
}
