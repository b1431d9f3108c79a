import Foundation

/// Helpers shared by the end-to-end tests: the built `baton` binary and temp directories.
enum TestSupport {
    /// The `baton` executable next to the test bundle (SwiftPM puts both in the same folder).
    static var batonBinary: URL {
        var url = Bundle.main.bundleURL
        while url.path != "/" {
            let candidate = url.appendingPathComponent("baton")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            url.deleteLastPathComponent()
        }
        return repositoryRoot.appendingPathComponent(".build/debug/baton")
    }

    /// The package root (this file is `Tests/BatonEndToEndTests/TestSupport.swift`).
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `examples/` of the repository.
    static var examples: URL { repositoryRoot.appendingPathComponent("examples") }

    /// A fresh empty directory (symlinks resolved, so `pwd -P` in a child compares equal),
    /// removed by the caller.
    static func makeTemporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("baton-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url.resolvingSymlinksInPath()
    }
}

/// Failures of the harness itself (as opposed to expectations about Baton).
struct E2EError: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) { self.description = description }
}
