/// Draws a ``GraphLayout`` as SVG for the console. Styling comes from the page's CSS
/// (classes `node`, `status-…`, `edge`), with presentation attributes as a fallback for
/// the file opened alone; nothing inline that a strict Content-Security-Policy refuses.
/// Every node shows its status as a word and a glyph, never by colour alone.
public enum GraphSVG {
    static let nodeWidth = 180
    static let nodeHeight = 44
    static let gapX = 60
    static let gapY = 14
    static let margin = 12

    public static func render(_ layout: GraphLayout, title: String) -> String {
        let width = margin * 2 + max(1, layout.layerCount) * (nodeWidth + gapX) - gapX
        let height = margin * 2 + max(1, layout.rowCount) * (nodeHeight + gapY) - gapY
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" class="dag" width="\(width)" height="\(height)" \
            viewBox="0 0 \(width) \(height)" role="img" aria-label="\(escape(title)): \(layout.nodes.count) nodes">

            """
        svg.reserveCapacity(layout.nodes.count * 320 + layout.edges.count * 120)
        func origin(_ node: GraphLayout.Node) -> (Int, Int) {
            (margin + node.layer * (nodeWidth + gapX), margin + node.row * (nodeHeight + gapY))
        }
        svg += "<g class=\"edges\">\n"
        for edge in layout.edges {
            let (x1, y1) = origin(layout.nodes[edge.from])
            let (x2, y2) = origin(layout.nodes[edge.to])
            let startX = x1 + nodeWidth
            let startY = y1 + nodeHeight / 2
            let endY = y2 + nodeHeight / 2
            let middle = (startX + x2) / 2
            let dash = edge.sequential ? " stroke-dasharray=\"4 3\"" : ""
            svg +=
                "<path class=\"edge\(edge.sequential ? " sequential" : "")\" d=\"M\(startX),\(startY) C\(middle),\(startY) \(middle),\(endY) \(x2),\(endY)\" fill=\"none\" stroke=\"#888\"\(dash)/>\n"
        }
        svg += "</g>\n<g class=\"nodes\">\n"
        for node in layout.nodes {
            let (x, y) = origin(node)
            let status = node.status.rawValue
            let idAttribute: String
            let detail: String
            if let task = node.task {
                idAttribute = " id=\"t-\(task)\" data-task=\"\(escape(node.label))\""
                detail = glyph(node.status) + " " + status.replacingOccurrences(of: "_", with: " ")
            } else {
                idAttribute = " data-group=\"\(escape(node.label))\""
                detail = TaskStatus.allCases.compactMap { state in
                    node.counts[state].map { "\(glyph(state))\($0)" }
                }.joined(separator: " ")
            }
            let classes = "node status-\(status)" + (node.task == nil ? " group" : "")
            let total = node.counts.values.reduce(0, +)
            let tooltip = node.task == nil ? "\(node.label): \(total) tasks, \(detail)" : "\(node.label): \(status)"
            svg += """
                <g class="\(classes)"\(idAttribute) transform="translate(\(x),\(y))" tabindex="0"><title>\(escape(tooltip))</title>\
                <rect width="\(nodeWidth)" height="\(nodeHeight)" rx="6" fill="\(RunGraph.colour(node.status))" stroke="#555"/>\
                <text class="label" x="8" y="18">\(escape(truncated(node.label)))</text>\
                <text class="state" x="8" y="35">\(escape(detail))</text></g>

                """
        }
        svg += "</g>\n</svg>\n"
        return svg
    }

    /// A shape per status, so status never depends on colour alone.
    public static func glyph(_ status: TaskStatus) -> String {
        switch status {
        case .pending: "○"
        case .running: "▶"
        case .succeeded: "✓"
        case .failed: "✗"
        case .timedOut: "⏱"
        case .cancelled: "⊘"
        case .skipped: "↷"
        }
    }

    static func truncated(_ label: String) -> String {
        label.count <= 24 ? label : String(label.prefix(23)) + "…"
    }

    static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
