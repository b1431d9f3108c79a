import Foundation
import Glibc
import Testing

@testable import BatonRunner

/// Many short children, two at a time: every exit reported once, no zombie, no
/// descriptor leaked, at a cost comparable to ninja's.
@Suite(.serialized) struct ReactorStressTests {
    typealias T = ProcessTestSupport

    /// Runs `count` `true` children at most `parallel` at a time in a reactor that is
    /// gone on return; returns the exits, the pids and the elapsed seconds.
    private func runTrueChildren(count: Int, parallel: Int, dir: String) throws
        -> (exits: [ChildExit], pids: [Int32], seconds: Double)
    {
        let reactor = try ChildReactor()
        var exits: [ChildExit] = []
        var pids: [Int32] = []
        exits.reserveCapacity(count)
        let started = Date()
        let deadline = started + 120
        var next = 0
        while exits.count < count && Date() < deadline {
            while next < count && reactor.liveCount < parallel {
                pids.append(try reactor.spawn(T.request(["true"], tag: UInt64(next), log: "\(dir)/\(next).log")))
                next += 1
            }
            exits += reactor.poll(until: deadline)
        }
        return (exits, pids, Date().timeIntervalSince(started))
    }

    @Test("500 `true` children two at a time: all reported, none a zombie, no fd leaked")
    func fiveHundredChildren() throws {
        let dir = try T.makeTempDirectory()
        defer { T.removeDirectory(dir) }
        let descriptorsBefore = T.openDescriptorCount()
        let (exits, pids, seconds) = try runTrueChildren(count: 500, parallel: 2, dir: dir)
        #expect(exits.count == 500, "\(exits.count) exits after \(seconds)s")
        #expect(Set(exits.map(\.tag)) == Set(0..<500))
        #expect(exits.allSatisfy { $0.exitCode == 0 && $0.signal == nil && $0.logBytes == 0 })
        #expect(Set(exits.map(\.pid)) == Set(pids))
        let zombies = T.childrenOfThisProcess().intersection(pids)
        #expect(zombies.isEmpty, "unreaped children: \(zombies.sorted())")
        // Other suites run concurrently and open descriptors of their own: a leak of one
        // descriptor per child would show as hundreds, the noise as a handful.
        let descriptorsAfter = T.openDescriptorCount()
        #expect(descriptorsAfter - descriptorsBefore < 30, "\(descriptorsBefore) fds before, \(descriptorsAfter) after")
        #expect(seconds < 60, "500 children took \(seconds)s")
    }

    @Test("1,000 `true` children two at a time: timing")
    func thousandChildrenTiming() throws {
        let dir = try T.makeTempDirectory()
        defer { T.removeDirectory(dir) }
        let (exits, _, seconds) = try runTrueChildren(count: 1000, parallel: 2, dir: dir)
        #expect(exits.count == 1000)
        print(
            "ReactorStressTests: spawned and reaped 1000 `true` children, 2 at a time, in "
                + "\(String(format: "%.3f", seconds)) s (\(Int(seconds * 1_000_000 / 1000)) µs each)")
        #expect(seconds < 60, "1,000 children took \(seconds)s")
    }
}
