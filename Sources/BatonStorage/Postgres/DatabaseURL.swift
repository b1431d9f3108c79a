/// PostgreSQL URLs as they may be shown: never with their password.
public enum DatabaseURL {
    /// `postgres://user:secret@host/db` → `postgres://user:***@host/db`; other text unchanged.
    public static func redacted(_ url: String) -> String {
        guard let scheme = url.range(of: "://"),
            let at = url[scheme.upperBound...].firstIndex(of: "@"),
            let colon = url[scheme.upperBound..<at].firstIndex(of: ":")
        else { return url }
        return String(url[..<url.index(after: colon)]) + "***" + String(url[at...])
    }
}
