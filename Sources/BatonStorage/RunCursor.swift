import BatonCore
import Foundation

/// The runs list cursor: the `seq` of the last run of a page, as URL-safe base64 of
/// `seq:<n>` (no padding), so clients treat it as opaque and it needs no escaping.
enum RunCursor {
    private static let prefix = "seq:"

    static func encode(seq: Int64) -> String {
        Data((prefix + String(seq)).utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// The `seq` a cursor stands for.
    ///
    /// - Throws: `RunStoreError.invalidCursor` when `cursor` was not made by `encode`.
    static func decode(_ cursor: String) throws -> Int64 {
        var base64 = cursor.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.utf8.count % 4) % 4)
        guard cursor.utf8.count <= 64,
            let data = Data(base64Encoded: base64),
            let text = String(data: data, encoding: .utf8),
            text.hasPrefix(prefix),
            let seq = Int64(text.dropFirst(prefix.count)),
            seq > 0,
            encode(seq: seq) == cursor
        else {
            throw RunStoreError.invalidCursor(cursor)
        }
        return seq
    }
}

extension RunPage {
    /// The page of `rows`, fetched with one row more than `limit` to tell whether there is
    /// a next page; its cursor is the `seq` of the page's last run.
    static func of(_ rows: [StoredRun], limit: Int) -> RunPage {
        guard rows.count > limit else { return RunPage(runs: rows.map(\.record), nextCursor: nil) }
        let page = rows.prefix(limit)
        return RunPage(runs: page.map(\.record), nextCursor: page.last.map { RunCursor.encode(seq: $0.seq) })
    }
}
