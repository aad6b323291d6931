// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "Interlink",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "interlink", targets: ["interlink"]),
        .library(name: "InterlinkCore", targets: ["InterlinkCore"]),
        // For the fuzz targets in Fuzz/ (a package of their own, built with -sanitize=fuzzer).
        .library(name: "InterlinkMesh", targets: ["InterlinkMesh"]),
        .library(name: "InterlinkAgent", targets: ["InterlinkAgent"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-atomics.git", from: "1.3.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        // etcd's own protocol (gRPC over HTTP/2) in the embedded store and the kvstore client.
        .package(url: "https://github.com/grpc/grpc-swift-2.git", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport.git", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
        // Certificates: `interlink certs`, and the client certificate's common name as the user.
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        // NIOCertificateReloading: certificate files re-read while the agent runs.
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        // AsyncChannel: a watch stream's watchers share one writer, with back-pressure.
        .package(url: "https://github.com/apple/swift-async-algorithms.git", from: "1.1.4"),
    ],
    targets: [
        .target(
            name: "InterlinkCore",
            dependencies: [.product(name: "Yams", package: "Yams")]
        ),
        .target(
            name: "InterlinkMesh",
            dependencies: [
                "InterlinkCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "NIOCertificateReloading", package: "swift-nio-extras"),
                .product(name: "AsyncAlgorithms", package: "swift-async-algorithms"),
            ]
        ),
        // The Linux calls (epoll, eventfd, accept4) that Swift's Glibc module leaves out, for
        // the purpose-built data plane; a header only.
        .target(name: "CInterlinkLinux"),
        .target(
            name: "InterlinkProxy",
            dependencies: [
                "InterlinkCore",
                "CInterlinkLinux",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The demo backend of `interlink backend` and `interlink demo` (and of tests).
        .target(
            name: "InterlinkDemo",
            dependencies: [
                "InterlinkCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // The API's request and answer types, shared by the agent and the CLI.
        .target(
            name: "InterlinkAPI",
            dependencies: ["InterlinkCore"]
        ),
        .target(
            name: "InterlinkAgent",
            dependencies: [
                "InterlinkAPI",
                "InterlinkCore",
                "InterlinkMesh",
                "InterlinkProxy",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Atomics", package: "swift-atomics"),
            ]
        ),
        .executableTarget(
            name: "interlink",
            dependencies: [
                "InterlinkAgent",
                "InterlinkAPI",
                "InterlinkDemo",
                "InterlinkCore",
                "InterlinkMesh",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "InterlinkCoreTests",
            dependencies: ["InterlinkCore"]
        ),
        .testTarget(
            name: "InterlinkMeshTests",
            dependencies: ["InterlinkMesh", "InterlinkCore"]
        ),
        // Components with no sockets and a manual clock: the routing writer, the route
        // reconciler against a recording data plane, a remote watcher against a store it controls.
        .testTarget(
            name: "InterlinkComponentTests",
            dependencies: [
                "InterlinkAgent",
                "InterlinkCore",
                "InterlinkMesh",
                "InterlinkProxy",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "InterlinkIntegrationTests",
            dependencies: [
                "InterlinkAgent",
                "InterlinkAPI",
                "InterlinkDemo",
                "InterlinkProxy",
                "InterlinkCore",
                "InterlinkMesh",
                "interlink",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
