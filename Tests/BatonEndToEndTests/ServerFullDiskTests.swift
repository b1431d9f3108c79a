import Foundation
import Glibc
import Testing

/// SPEC §3 under a full disk: the data directory on a 6 MiB tmpfs that fills up.
@Suite struct ServerFullDiskTests {
    @Test func aRunThatEndsOnAFullDiskIsRecordedOnceSpaceIsFreedAndWritesAnswer507() async throws {
        guard getuid() == 0 else {
            Issue.record("needs root to mount a small tmpfs for the data directory")
            return
        }
        let mountPoint = FileManager.default.temporaryDirectory.appendingPathComponent(
            "baton-full-\(UUID().uuidString)"
        ).path
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        try Self.run("/bin/mount", ["-t", "tmpfs", "-o", "size=6m", "tmpfs", mountPoint])
        defer {
            try? Self.run("/bin/umount", ["-l", mountPoint])
            try? FileManager.default.removeItem(atPath: mountPoint)
        }
        try await withTestServer(ServerOptions(extraArguments: ["--data-dir", mountPoint + "/data"])) { server in
            let created = try await server.submit(["tasks": [["name": "a", "command": waitForFileCommand("go")]]])
            let id = try #require(created["id"] as? String)
            try await server.waitForTask(id, "a", status: "running")

            let filler = mountPoint + "/filler"
            Self.fill(filler)
            try server.touch("go")
            // The run ends in the engine, but its final state cannot be written.
            try await waitUntil("the store to report the full disk", within: .seconds(20)) {
                (try? Self.health(server))?.contains("degraded") == true
            }
            // A load balancer sees it: /healthz is a 503 problem naming the store.
            let health = try await server.client.get("/healthz")
            let degraded = expectProblem(health, 503)
            #expect((degraded["detail"] as? String)?.contains("the store cannot write") == true, "\(degraded)")
            #expect(health.header("Retry-After") != nil)
            let refused = try await server.client.post(
                "/v1/runs", body: Data(#"{"tasks":[{"name":"x","command":"true"}]}"#.utf8),
                contentType: "application/json")
            let problem = expectProblem(refused, 507)
            #expect(refused.header("Retry-After") == "30")
            #expect((problem["detail"] as? String)?.contains("full") == true, "\(problem)")
            #expect(try await server.run(id)["status"] as? String == "running", "not recorded yet")

            try FileManager.default.removeItem(atPath: filler)
            // Retried on a timer: recorded without any new activity, and without a restart.
            let done = try await server.waitForRun(id, within: .seconds(20))
            #expect(done["status"] as? String == "succeeded", "\(done)")
            #expect(try await server.client.get("/healthz").status == 200)
        }
    }

    static func health(_ server: TestServer) throws -> String {
        let answer = try RawSocket.blockingGet(port: try server.port, "/healthz")
        return answer
    }

    /// Writes zeros to `path` until the file system is full.
    static func fill(_ path: String) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        defer { close(fd) }
        let block = [UInt8](repeating: 0, count: 65536)
        while block.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) > 0 {}
    }

    static func run(_ tool: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw E2EError("\(tool) \(arguments) failed") }
    }
}

extension RawSocket {
    /// A `GET` on its own connection, the whole answer as text (for polling in
    /// synchronous conditions).
    static func blockingGet(port: Int, _ target: String) throws -> String {
        let socket = try RawSocket(port: port, readTimeout: .seconds(5))
        try socket.send("GET \(target) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        return String(decoding: try socket.readToEnd(), as: UTF8.self)
    }
}
