import Foundation

// Scratch databases for tests: each test gets a database of its own on one test server,
// so tests run in parallel without seeing each other's rows.
extension PostgresRunStore {
    /// Creates an empty database on the server of `serverURL` and returns its URL.
    package static func createScratchDatabase(serverURL: String) throws -> String {
        let name = "baton_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let admin = try PGConnection(url: serverURL)
        try admin.execute("CREATE DATABASE \(name)")
        return replacingDatabase(in: serverURL, with: name)
    }

    /// Drops a database made by `createScratchDatabase`, closing its other connections.
    package static func dropScratchDatabase(serverURL: String, url: String) {
        guard let name = url.split(separator: "/").last?.split(separator: "?").first, name.hasPrefix("baton_test_")
        else { return }
        let admin = try? PGConnection(url: serverURL)
        try? admin?.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }

    /// Runs one SQL text (several statements allowed) on the database of `url`.
    package static func executeForTesting(url: String, sql: String) throws {
        try PGConnection(url: url).execute(sql)
    }

    /// The first column of every row of `sql` on the database of `url`.
    package static func fetchStringsForTesting(url: String, sql: String) throws -> [String?] {
        let result = try PGConnection(url: url).query(sql)
        return (0..<result.count).map { result.string($0, 0) }
    }

    /// `url` with its database name replaced by `name` (a query string is kept).
    static func replacingDatabase(in url: String, with name: String) -> String {
        guard let scheme = url.range(of: "://") else { return url }
        let rest = url[scheme.upperBound...]
        let query = rest.firstIndex(of: "?").map { String(rest[$0...]) } ?? ""
        let authority = rest.prefix { $0 != "/" && $0 != "?" }
        return url[..<scheme.upperBound] + authority + "/" + name + query
    }
}
