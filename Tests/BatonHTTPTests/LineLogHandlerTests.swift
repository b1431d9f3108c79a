import Foundation
import Logging
import Testing

@testable import BatonHTTP

/// The server's log lines are swift-log's `StreamLogHandler` lines byte for byte (people
/// and tools already parse them), only cheaper to write.
@Suite struct LineLogHandlerTests {
    /// Collects what `StreamLogHandler` writes.
    final class Captured: TextOutputStream, @unchecked Sendable {
        var text = ""
        func write(_ string: String) { text += string }
    }

    struct CapturingStream: TextOutputStream, Sendable {
        let sink: Captured
        func write(_ string: String) { sink.write(string) }
    }

    /// Lines written by LineLogHandler into a pipe.
    func lines(_ body: (inout Logger) -> Void) throws -> String {
        var fds: [Int32] = [0, 0]
        try #require(pipe(&fds) == 0)
        defer { close(fds[0]) }
        var logger = Logger(label: "baton") { LineLogHandler(label: $0, descriptor: fds[1]) }
        body(&logger)
        close(fds[1])
        return String(decoding: FileHandle(fileDescriptor: fds[0]).readDataToEndOfFile(), as: UTF8.self)
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String { "it broke" }
    }

    @Test func linesAreThoseOfStreamLogHandler() throws {
        let statements: (inout Logger) -> Void = { logger in
            logger[metadataKey: "server"] = "a"
            logger.info(
                "request", metadata: ["method": "GET", "path": "/v1/runs/x y", "status": "200", "duration_ms": "0.125"])
            logger.error("no metadata")
            logger.warning("an error", error: Failure(), metadata: ["b": "2"])
            logger.debug("below the level: not written")
            logger.notice("nested", metadata: ["list": ["1", "2"], "map": ["k": "v"]])
        }
        for _ in 0..<3 {  // retried when the second changes between the two
            let captured = Captured()
            var reference = Logger(label: "baton") {
                StreamLogHandler(label: $0, stream: CapturingStream(sink: captured))
            }
            statements(&reference)
            let ours = try lines(statements)
            if ours == captured.text {
                #expect(ours.split(separator: "\n").count == 4)
                return
            }
            if ours.prefix(24) == captured.text.prefix(24) {
                #expect(ours == captured.text)
                return
            }
        }
        Issue.record("the timestamps kept differing")
    }

    @Test func durationsAreWrittenWithThreeDecimals() {
        #expect(ServerContext.milliseconds(0) == "0.000")
        #expect(ServerContext.milliseconds(0.0004) == "0.000")
        #expect(ServerContext.milliseconds(1.2346) == "1.235")
        #expect(ServerContext.milliseconds(12.05) == "12.050")
        #expect(ServerContext.milliseconds(1234.5) == "1234.500")
    }

    /// Lines longer than a pipe's atomic write stay whole while other threads log too.
    @Test func longLinesFromManyThreadsStayWhole() throws {
        var fds: [Int32] = [0, 0]
        try #require(pipe(&fds) == 0)
        let reader = FileHandle(fileDescriptor: fds[0], closeOnDealloc: true)
        let collected = Captured()
        let done = DispatchSemaphore(value: 0)
        // A slow reader: the pipe fills, and a long line's write(2) is split while other
        // threads write (what a busy log collector does to the server).
        Thread.detachNewThread {
            var data = Data()
            while true {
                let chunk = reader.readData(ofLength: 4096)
                if chunk.isEmpty { break }
                data.append(chunk)
                usleep(300)
            }
            collected.text = String(decoding: data, as: UTF8.self)
            done.signal()
        }
        let long = String(repeating: "x", count: 10_000)
        let writeEnd = fds[1]
        DispatchQueue.concurrentPerform(iterations: 4) { thread in
            let logger = Logger(label: "baton") { LineLogHandler(label: $0, descriptor: writeEnd) }
            for index in 0..<40 {
                if index % 2 == 0 {
                    logger.info("long", metadata: ["body": "\(long)", "thread": "\(thread)"])
                } else {
                    logger.info("short", metadata: ["thread": "\(thread)"])
                }
            }
        }
        close(writeEnd)
        done.wait()
        let lines = collected.text.split(separator: "\n")
        #expect(lines.count == 160)
        var torn = 0
        var longLines = 0
        for line in lines {
            if line.hasSuffix("[BatonHTTPTests] short") { continue }
            let body = line.split(separator: " ").first { $0.hasPrefix("body=") }
            if line.hasSuffix("[BatonHTTPTests] long"), body?.utf8.count == 5 + long.utf8.count,
                body?.utf8.dropFirst(5).allSatisfy({ $0 == UInt8(ascii: "x") }) == true
            {
                longLines += 1
            } else {
                torn += 1
            }
        }
        #expect(torn == 0, "\(torn) torn lines")
        #expect(longLines == 80)
    }
}
