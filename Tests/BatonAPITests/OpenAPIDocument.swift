import Foundation
import Yams

/// `openapi.yaml` at the repository root, parsed with Yams (BatonCore's YAML library).
struct OpenAPIDocument {
    /// One documented operation: an HTTP method on a path template.
    struct Operation: CustomStringConvertible {
        /// Upper case, as the router spells it (`GET`).
        let method: String
        /// The path template as written, e.g. `/v1/runs/{id}/cancel`.
        let path: String
        let node: Node

        var description: String { "\(method) \(path)" }
    }

    /// The keys of a Path Item object that are operations (OpenAPI 3.1 §4.8.9).
    static let operationKeys = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]

    /// The document at the repository root, found from this file's path so that the test
    /// does not depend on the working directory.
    static var fileURL: URL {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()  // BatonAPITests
            .deletingLastPathComponent()  // Tests
            .deletingLastPathComponent()  // the repository
            .appendingPathComponent("openapi.yaml")
    }

    let root: Node

    init(url: URL = OpenAPIDocument.fileURL) throws {
        let text = try String(contentsOf: url, encoding: .utf8)
        guard let root = try Yams.compose(yaml: text), root.mapping != nil else {
            throw DocumentError("\(url.path) is not a YAML mapping")
        }
        self.root = root
    }

    /// Every operation under `paths`, in document order.
    func operations() throws -> [Operation] {
        guard let paths = root["paths"]?.mapping else { throw DocumentError("no `paths` mapping") }
        var result: [Operation] = []
        for (key, item) in paths {
            guard let path = key.string, let members = item.mapping else {
                throw DocumentError("`paths` has a member that is not a path item: \(key)")
            }
            for (name, node) in members {
                guard let name = name.string, Self.operationKeys.contains(name) else { continue }
                result.append(Operation(method: name.uppercased(), path: path, node: node))
            }
        }
        return result
    }

    /// `node`, or the object its local `$ref` (`#/components/...`) points at.
    func resolve(_ node: Node) throws -> Node {
        guard let reference = node["$ref"]?.string else { return node }
        guard reference.hasPrefix("#/") else { throw DocumentError("non-local $ref \(reference)") }
        var target = root
        for component in reference.dropFirst(2).split(separator: "/") {
            let key = component.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            guard let next = target[key] else { throw DocumentError("dangling $ref \(reference)") }
            target = next
        }
        return try resolve(target)
    }

    struct DocumentError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}
