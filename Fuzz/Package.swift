// swift-tools-version:6.1
// Fuzz targets for Interlink's input parsers (libFuzzer). Build and run them with
// scripts/fuzz.sh, which passes -sanitize=fuzzer,address and -parse-as-library; each target's
// TARGET_main hands over to libFuzzer's driver (FuzzSupport).
import PackageDescription

let targets = ["FuzzManifest", "FuzzClusterService", "FuzzClusterConfig", "FuzzDuration", "FuzzStoreRequest"]

let package = Package(
    name: "InterlinkFuzz",
    dependencies: [.package(name: "Interlink", path: "..")],
    targets: [.target(name: "FuzzSupport")] + targets.map { name in
        .executableTarget(
            name: name,
            dependencies: [
                "FuzzSupport",
                .product(name: "InterlinkCore", package: "Interlink"),
                .product(name: "InterlinkMesh", package: "Interlink"),
                .product(name: "InterlinkAgent", package: "Interlink"),
            ])
    },
    swiftLanguageModes: [.v6]
)
