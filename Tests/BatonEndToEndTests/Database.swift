import Foundation

/// Reads the run database with the `sqlite3` CLI (read-only), as an operator would.
extension Scratch {
    /// The rows of `query` as JSON objects (`sqlite3 -json`).
    func query(_ query: String) throws -> [[String: Any]] {
        let output = path("sqlite-\(UUID().uuidString.prefix(8)).out")
        guard FileManager.default.createFile(atPath: output, contents: nil) else {
            throw E2EError("cannot create \(output)")
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        defer {
            try? handle.close()
            try? FileManager.default.removeItem(atPath: output)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["sqlite3", "-readonly", "-json", database, query]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        process.waitUntilExit()
        let text = read(URL(fileURLWithPath: output).lastPathComponent) ?? ""
        guard process.terminationStatus == 0 else { throw E2EError("sqlite3 \(query): \(text)") }
        if text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return [] }
        guard let rows = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]] else {
            throw E2EError("sqlite3 printed no rows: \(text)")
        }
        return rows
    }

    /// name → status of the tasks of `runID` in the database.
    func storedTaskStatuses(runID: String) throws -> [String: String] {
        let rows = try query("SELECT name, status FROM tasks WHERE run_id = '\(runID)'")
        var statuses: [String: String] = [:]
        for row in rows {
            if let name = row["name"] as? String, let status = row["status"] as? String { statuses[name] = status }
        }
        return statuses
    }
}
