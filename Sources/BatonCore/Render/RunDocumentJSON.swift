/// The Run document (SPEC §4) as `JSONBytes`: the same bytes as `JSONEncoder` gives for a
/// `RunDocument`, written member by member in sorted key order. The document is cut in
/// three so a caller can keep the task objects of a big run rendered between requests
/// (see `RunRendering` in BatonAPI): ``writeOpening(_:into:)``, the tasks, then
/// ``writeClosing(_:into:)``.
public enum RunDocumentJSON {
    /// The whole document, tasks included when `document.tasks` is set.
    public static func encode(_ document: RunDocument) -> [UInt8] {
        var json = JSONBytes(capacity: 512 + (document.tasks?.count ?? 0) * 256)
        writeOpening(document, into: &json)
        if let tasks = document.tasks {
            json.raw("\"tasks\":[")
            for (offset, task) in tasks.enumerated() {
                if offset > 0 { json.raw(",") }
                write(task, into: &json)
            }
            json.raw("],")
        }
        writeClosing(document, into: &json)
        return json.bytes
    }

    /// `{` through the member before `tasks` (`"status":…,`).
    public static func writeOpening(_ document: RunDocument, into json: inout JSONBytes) {
        json.raw("{\"counts\":{")
        for (offset, (name, count)) in document.counts.sorted(by: { $0.key < $1.key }).enumerated() {
            if offset > 0 { json.raw(",") }
            json.string(name)
            json.raw(":")
            json.integer(count)
        }
        json.raw("},\"created_at\":")
        json.string(document.createdAt)
        json.raw(",\"finished_at\":")
        json.string(document.finishedAt)
        json.raw(",\"id\":")
        json.string(document.id)
        json.raw(",\"name\":")
        json.string(document.name)
        json.raw(",")
        if let notifications = document.notifications {
            json.raw("\"notifications\":[")
            for (offset, notification) in notifications.enumerated() {
                if offset > 0 { json.raw(",") }
                json.raw("{\"attempts\":")
                json.integer(notification.attempts)
                json.raw(",\"last_error\":")
                json.string(notification.lastError)
                json.raw(",\"status\":")
                json.string(notification.status)
                json.raw(",\"url\":")
                json.string(notification.url)
                json.raw("}")
            }
            json.raw("],")
        }
        json.raw("\"started_at\":")
        json.string(document.startedAt)
        json.raw(",\"status\":")
        json.string(document.status.rawValue)
        json.raw(",")
    }

    /// The members after `tasks` (`"trigger":…,"workflow":…`) and the closing `}`.
    public static func writeClosing(_ document: RunDocument, into json: inout JSONBytes) {
        json.raw("\"trigger\":")
        write(document.trigger, into: &json)
        json.raw(",\"workflow\":")
        json.string(document.workflow)
        json.raw("}")
    }

    /// One task object.
    public static func write(_ task: TaskDocument, into json: inout JSONBytes) {
        json.raw("{\"attempt\":")
        json.integer(task.attempt)
        json.raw(",\"duration_seconds\":")
        json.number(task.durationSeconds)
        json.raw(",\"exit_code\":")
        json.integer(task.exitCode)
        json.raw(",\"finished_at\":")
        json.string(task.finishedAt)
        json.raw(",\"group\":")
        json.string(task.group)
        json.raw(",\"name\":")
        json.string(task.name)
        json.raw(",\"reason\":")
        json.string(task.reason)
        json.raw(",\"signal\":")
        json.integer(task.signal)
        json.raw(",\"started_at\":")
        json.string(task.startedAt)
        json.raw(",\"status\":")
        json.string(task.status.rawValue)
        json.raw("}")
    }

    static func write(_ trigger: RunTrigger, into json: inout JSONBytes) {
        switch trigger {
        case .api, .manual:
            break
        case .cron(let scheduledAt):
            json.raw("{\"scheduled_at\":")
            json.string(Timestamp.format(scheduledAt))
        case .webhook(let deliveryID, let event):
            json.raw("{\"delivery_id\":")
            json.string(deliveryID)
            json.raw(",\"event\":")
            json.string(event)
        case .retry(let originalRunID):
            json.raw("{\"original_run_id\":")
            json.string(originalRunID)
        case .task(let runID, let task, let attempt):
            json.raw("{\"attempt\":")
            json.integer(attempt)
            json.raw(",\"run_id\":")
            json.string(runID)
            json.raw(",\"task\":")
            json.string(task)
        }
        switch trigger {
        case .api, .manual: json.raw("{\"type\":")
        default: json.raw(",\"type\":")
        }
        json.string(trigger.typeName)
        json.raw("}")
    }
}
