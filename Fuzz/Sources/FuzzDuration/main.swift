import FuzzSupport
import InterlinkCore

/// Durations as every option and annotation reads them; what parses must format and parse
/// back.
@_cdecl("FuzzDuration_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzz)
}

func fuzz(_ bytes: UnsafeRawBufferPointer) {
    let text = String(decoding: bytes, as: UTF8.self)
    guard let duration = try? DurationText.parse(text) else { return }
    precondition(duration <= DurationText.maximum, "\(text) parsed past the maximum")
    _ = try? DurationText.parse(DurationText.format(duration))
}
