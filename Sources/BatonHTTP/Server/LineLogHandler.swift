import Foundation
import Logging
import Synchronization

/// The server's log handler: the lines of swift-log's `StreamLogHandler` byte for byte
/// (`2026-12-07T10:34:31+0000 info baton: k=v … [Module] message`), written cheaply. Every
/// request logs a line, and `StreamLogHandler` made that a fifth of the server's CPU for
/// a small GET (measured with perf): `localtime` stat()s /etc/localtime on each call, the
/// stderr `FILE` lock made the HTTP threads wait on each other, and each line was formatted
/// through several intermediate strings. Here the timestamp is formatted once per second
/// and each line is written whole under one lock (see `log(event:)`).
public struct LineLogHandler: LogHandler {
    let label: String
    let descriptor: Int32
    public var logLevel: Logger.Level = .info
    public var metadataProvider: Logger.MetadataProvider?
    public var metadata = Logger.Metadata()

    public init(label: String, descriptor: Int32 = STDERR_FILENO, metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        self.descriptor = descriptor
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get(), !provided.isEmpty {
            merged.merge(provided) { _, provided in provided }
        }
        if let explicit = event.metadata, !explicit.isEmpty {
            merged.merge(explicit) { _, explicit in explicit }
        }
        if let error = event.error {
            merged["error.message"] = "\(error)"
            merged["error.type"] = "\(String(reflecting: type(of: error)))"
        }
        var line = Self.clock.timestamp()
        line += " "
        line += event.level.rawValue
        if !label.isEmpty {
            line += " "
            line += label
        }
        line += ":"
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
            line += " "
            line += key
            line += "="
            line += value.description
        }
        line += " ["
        line += event.source
        line += "] "
        line += event.message.description
        line += "\n"
        line.withUTF8 { bytes in
            let bytes = UnsafeRawBufferPointer(bytes)
            // Every line under one lock: a long line can take several write(2) calls (a
            // pipe splits writes over PIPE_BUF when its reader is slow), and a short line
            // written between two of them would tear it (seen under load). The lock is
            // held for the write only, which a pipe serialises anyway; formatting above is
            // done outside it.
            Self.writeLock.withLock { _ in DescriptorWrite.all(descriptor, bytes) }
        }
    }

    private static let writeLock = Mutex(())

    /// `%Y-%m-%dT%H:%M:%S%z` in local time, formatted once per second.
    static let clock = LogClock()
}

/// The current second's timestamp, shared by every thread.
final class LogClock: Sendable {
    private let cached = Mutex<(second: time_t, text: String)>((-1, ""))

    func timestamp() -> String {
        var now = time(nil)
        if let hit = cached.withLock({ $0.second == now ? $0.text : nil }) { return hit }
        var local = tm()
        // localtime_r, unlike localtime, does not re-read the zone file on every call.
        guard localtime_r(&now, &local) != nil else { return "<unknown>" }
        var buffer = [CChar](repeating: 0, count: 64)
        let count = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &local)
        let text = String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        cached.withLock { $0 = (now, text) }
        return text
    }
}
