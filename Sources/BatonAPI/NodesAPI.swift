import BatonCore
import BatonHTTP
import Foundation

/// `GET /v1/nodes`: the nodes of the cluster (one, this server, outside cluster mode),
/// with labels, slots, busy slots, last heartbeat and state.
struct NodesAPI: Sendable {
    let nodes: @Sendable () throws -> [ClusterNode]

    func list(_ request: HTTPRequest, _ parameters: RouteParameters) throws -> HTTPResponse {
        var items: [String] = []
        for node in try nodes() {
            var object = JSONText()
            object.add("id", node.id)
            object.add("hostname", node.hostname)
            object.add("labels", json: JSONText.object(strings: node.labels))
            object.add("slots", node.slots)
            object.add("busy_slots", node.busySlots)
            object.add("version", node.version)
            object.add("started_at", node.startedAt)
            object.add("last_heartbeat_at", node.heartbeatAt)
            object.add("state", node.state.rawValue)
            object.add("url", node.url)
            items.append(object.string)
        }
        let body = "{\"nodes\":[" + items.joined(separator: ",") + "]}"
        return HTTPResponse(status: 200, headers: [("Content-Type", "application/json")], body: Data(body.utf8))
    }
}
