import BatonCore
import BatonHTTP
import CBatonAssets
import Foundation

/// The web console: `GET /` and `/ui/*`, the files embedded in the binary (CBatonAssets).
/// Strong ETags (content hashes) with `no-cache`, so a browser revalidates cheaply and a
/// new binary is picked up at once; a strict Content-Security-Policy (no inline script).
struct ConsoleAPI: Sendable {
    struct Asset: Sendable {
        let contentType: String
        let body: Data
        let etag: String
    }

    /// The embedded files by URL path.
    static let assets: [String: Asset] = {
        var count = 0
        guard let table = baton_assets(&count) else { return [:] }
        var assets: [String: Asset] = [:]
        for item in UnsafeBufferPointer(start: table, count: count) {
            let body = Data(bytes: item.bytes, count: item.length)
            assets[String(cString: item.path)] = Asset(
                contentType: String(cString: item.content_type), body: body,
                etag: "\"" + ContentDigest.hex(body).prefix(32) + "\"")
        }
        return assets
    }()

    static let securityPolicy =
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; "
        + "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

    func serve(_ request: HTTPRequest, _ parameters: RouteParameters) throws -> HTTPResponse {
        guard let asset = Self.assets[request.path] else {
            throw APIError.notFound("no console file \(request.path)")
        }
        var headers: [(String, String)] = [
            ("ETag", asset.etag), ("Cache-Control", "no-cache"), ("X-Content-Type-Options", "nosniff"),
        ]
        if request.path == "/" {
            headers += [("Content-Security-Policy", Self.securityPolicy), ("Referrer-Policy", "no-referrer")]
        }
        if let match = request.headers["If-None-Match"], ETag.matches(match, asset.etag) {
            return HTTPResponse(status: 304, headers: headers)
        }
        return HTTPResponse(status: 200, headers: [("Content-Type", asset.contentType)] + headers, body: asset.body)
    }
}
