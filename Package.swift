// swift-tools-version:6.2
import PackageDescription

// Targets mirror the architecture (see ../shared/STYLE.md): a pure core, and adapters
// (storage, runner, HTTP) around it, wired together by the `baton` executable.
/// Warnings are errors in every library and executable target of ours. Test targets are left
/// out: Swift Testing's macro expansions in toolchain 6.3.1 emit '@const' diagnostics that
/// the setting would promote.
let strict: [SwiftSetting] = [.treatAllWarnings(as: .error)]

let package = Package(
    name: "Baton",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "baton", targets: ["Baton"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // libmicrohttpd, the HTTP server library (libmicrohttpd-dev).
        .systemLibrary(
            name: "CMicroHTTPD",
            pkgConfig: "libmicrohttpd",
            providers: [.apt(["libmicrohttpd-dev"])]
        ),
        // libpq, PostgreSQL's C client (libpq-dev), for the cluster store (`--database postgres://`).
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        // Linux calls Swift cannot make directly (variadic syscall for pidfd_open).
        .target(name: "CBatonSys"),
        // The web console's HTML, CSS and JS, embedded with C23 #embed (one binary).
        .target(name: "CBatonAssets", exclude: ["assets"]),
        .target(
            name: "BatonCore",
            dependencies: [.product(name: "Yams", package: "Yams")], swiftSettings: strict),
        .target(
            name: "BatonStorage",
            dependencies: [
                "BatonCore", "CLibPQ", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            swiftSettings: strict),
        .target(
            name: "BatonRunner",
            dependencies: [
                "BatonCore", "CBatonSys", .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ], swiftSettings: strict),
        .target(
            name: "BatonHTTP",
            dependencies: ["BatonCore", "CMicroHTTPD", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict),
        // The v1 API: routes and handlers over the core's ports, served by BatonHTTP.
        .target(
            name: "BatonAPI",
            dependencies: [
                "BatonCore", "BatonHTTP", "CBatonAssets", .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ], swiftSettings: strict),
        .executableTarget(
            name: "Baton",
            dependencies: [
                "BatonCore", "BatonStorage", "BatonRunner", "BatonHTTP", "BatonAPI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ], swiftSettings: strict),
        .testTarget(name: "BatonCoreTests", dependencies: ["BatonCore"]),
        .testTarget(name: "BatonStorageTests", dependencies: ["BatonStorage", "BatonCore"]),
        .testTarget(
            name: "BatonRunnerTests", dependencies: ["BatonRunner", "BatonCore", "BatonStorage"], swiftSettings: strict),
        .testTarget(
            name: "BatonHTTPTests",
            dependencies: ["BatonHTTP", "BatonCore", .product(name: "Logging", package: "swift-log")]),
        .testTarget(
            name: "BatonAPITests",
            dependencies: [
                "BatonAPI", "BatonCore", "BatonHTTP", "BatonStorage", .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .testTarget(name: "BatonEndToEndTests", dependencies: ["BatonCore"]),
    ],
    swiftLanguageModes: [.v6],
    // C23 for #embed in CBatonAssets (gnu2x: clang's name for it in this toolchain).
    cLanguageStandard: .gnu2x
)
