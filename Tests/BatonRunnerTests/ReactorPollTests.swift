import Foundation
import Glibc
import Testing

@testable import BatonRunner

/// How `poll(until:)` returns: on exits, on the deadline, on a wake from another thread.
@Suite struct ReactorPollTests {
    typealias T = ProcessTestSupport

    /// "/proc/PID/task/TID" of the calling thread.
    static func currentThreadProcPath() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        let count = readlink("/proc/thread-self", &buffer, buffer.count - 1)
        return "/proc/" + String(decoding: buffer[..<max(0, count)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    @Test("wake() from another thread interrupts a poll blocked with children running")
    func wakerInterruptsBlockedPoll() throws {
        let dir = try T.makeTempDirectory()
        defer { T.removeDirectory(dir) }
        let reactor = try ChildReactor()
        let pid = try reactor.spawn(T.request(["sleep", "1000"], log: "\(dir)/s.log"))
        let syscallFile = Self.currentThreadProcPath() + "/syscall"
        let waker = reactor.waker
        // Wake only once this thread is inside poll(2) (x86_64: 7 poll, 271 ppoll), so
        // what is tested is the interruption, not a wake that was already pending.
        let wakerThread = Thread {
            _ = T.eventually(within: 30) {
                let call = T.contents(syscallFile)
                return call.hasPrefix("7 ") || call.hasPrefix("271 ")
            }
            waker.wake()
        }
        wakerThread.start()
        let started = Date()
        let exits = reactor.poll(until: Date() + 120)
        let elapsed = Date().timeIntervalSince(started)
        #expect(exits.isEmpty)
        #expect(elapsed < 60, "poll returned after \(elapsed)s: the wake did not interrupt it")
        #expect(reactor.liveCount == 1)
        reactor.signalGroup(pid: pid, SIGKILL)
        #expect(T.collectExits(reactor, count: 1).first?.pid == pid)
    }

    @Test("a wake before poll is not lost, and is consumed by one return")
    func pendingWake() throws {
        let reactor = try ChildReactor()
        reactor.waker.wake()
        reactor.waker.wake()
        let started = Date()
        #expect(reactor.poll(until: Date() + 60).isEmpty)
        #expect(Date().timeIntervalSince(started) < 30)
        // Both wakes were coalesced: the next poll waits for its deadline.
        let second = Date()
        #expect(reactor.poll(until: Date() + 0.2).isEmpty)
        #expect(Date().timeIntervalSince(second) >= 0.19)
    }

    @Test("the deadline bounds a poll with nothing happening; a past one returns at once")
    func deadline() throws {
        let dir = try T.makeTempDirectory()
        defer { T.removeDirectory(dir) }
        let reactor = try ChildReactor()
        let pid = try reactor.spawn(T.request(["sleep", "1000"], log: "\(dir)/s.log"))
        let started = Date()
        #expect(reactor.poll(until: Date() + 0.2).isEmpty)
        let elapsed = Date().timeIntervalSince(started)
        #expect(elapsed >= 0.19 && elapsed < 30)
        #expect(reactor.poll(until: Date() - 1).isEmpty)
        reactor.signalGroup(pid: pid, SIGKILL)
        #expect(T.collectExits(reactor, count: 1).count == 1)
    }

    @Test("output is in the log while the child still runs (logs can be tailed)")
    func outputIsPumpedBeforeExit() throws {
        let dir = try T.makeTempDirectory()
        defer { T.removeDirectory(dir) }
        let reactor = try ChildReactor()
        let log = "\(dir)/tail.log"
        let pid = try reactor.spawn(T.request(["sh", "-c", "echo first; exec sleep 1000"], log: log))
        var exits: [ChildExit] = []
        #expect(T.drive(reactor, exits: &exits) { T.contents(log) == "first\n" })
        #expect(exits.isEmpty)
        reactor.signalGroup(pid: pid, SIGKILL)
        let exit = T.collectExits(reactor, count: 1).first
        #expect(exit?.signal == SIGKILL)
        #expect(exit?.logBytes == 6)
    }
}
