import Foundation
import Glibc
import Testing

@testable import BatonRunner

/// SPEC §2, "no task process is ever left behind": a task's process group dies with it.
@Suite struct ReactorGroupTests {
    typealias T = ProcessTestSupport

    /// The group has no running member left (SIGKILL is asynchronous: the kernel may need
    /// a moment after kill(2) returns), and none of its zombies is ours to reap.
    static func expectGroupGone(_ pgid: Int32, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(
            T.eventually { T.liveMembers(ofGroup: pgid).isEmpty },
            "processes of group \(pgid) still run: \(T.liveMembers(ofGroup: pgid))",
            sourceLocation: sourceLocation)
        #expect(
            !T.childrenOfThisProcess().contains(pgid), "the leader \(pgid) is an unreaped zombie",
            sourceLocation: sourceLocation)
        // kill(-pgid, 0) finds the group until init has reaped the killed, orphaned members
        // (lazily, here): it must be gone, or hold nothing but such zombies.
        let gone = kill(-pgid, 0) == -1 && errno == ESRCH
        let members = T.members(ofGroup: pgid)
        #expect(
            gone || members.allSatisfy { $0.state == "Z" && $0.ppid != getpid() },
            "kill(-\(pgid), 0) still finds the group: \(members)", sourceLocation: sourceLocation)
    }

    @Test("signalGroup(SIGTERM) stops a shell and its background job")
    func terminateTree() throws {
        let dir = try T.makeTempDirectory()
        defer { T.removeDirectory(dir) }
        let reactor = try ChildReactor()
        let log = "\(dir)/tree.log"
        let pid = try reactor.spawn(
            T.request(["sh", "-c", "sleep 1000 & echo \"bg $!\"; sleep 1000; wait"], log: log))
        var exits: [ChildExit] = []
        let ready = T.drive(reactor, exits: &exits) { T.contents(log).contains("\n") }
        try #require(ready && exits.isEmpty, "the shell never printed its readiness line")
        let background = try #require(T.number(after: "bg ", in: T.contents(log)))
        #expect(T.procInfo(background)?.pgrp == pid, "the background job is in the task's group")

        #expect(reactor.signalGroup(pid: pid, SIGTERM))
        exits += T.collectExits(reactor, count: 1)
        #expect(exits.map(\.pid) == [pid])
        #expect(exits.first?.signal == SIGTERM)
        #expect(T.eventually { !T.isRunning(background) })
        Self.expectGroupGone(pid)
    }

    @Test(
        "a background job holding the pipe neither delays the exit report nor survives it",
        arguments: [true, false])
    func grandchildHoldingPipe(usesPidFDs: Bool) throws {
        let dir = try T.makeTempDirectory()
        defer { T.removeDirectory(dir) }
        let reactor = try ChildReactor(usesPidFDs: usesPidFDs)
        let log = "\(dir)/holder.log"
        let started = Date()
        let pid = try reactor.spawn(T.request(["sh", "-c", "sleep 1000 & echo \"bg $!\"; exit 3"], log: log))
        let exits = T.collectExits(reactor, count: 1)
        let elapsed = Date().timeIntervalSince(started)
        #expect(exits.first?.exitCode == 3)
        #expect(elapsed < 10, "the exit took \(elapsed)s to report: it waited for the pipe")
        let background = try #require(T.number(after: "bg ", in: T.contents(log)))
        #expect(T.eventually { !T.isRunning(background) }, "background sleep \(background) survived")
        Self.expectGroupGone(pid)
    }

    @Test("a background job that ignores SIGTERM still dies with its leader")
    func termResistantLeftover() throws {
        let dir = try T.makeTempDirectory()
        defer { T.removeDirectory(dir) }
        let reactor = try ChildReactor()
        let log = "\(dir)/stubborn.log"
        let script = "(trap '' TERM; exec sleep 1000) & echo \"bg $!\"; sleep 1000"
        let pid = try reactor.spawn(T.request(["sh", "-c", script], log: log))
        var exits: [ChildExit] = []
        let ready = T.drive(reactor, exits: &exits) { T.contents(log).contains("\n") }
        try #require(ready && exits.isEmpty)
        let background = try #require(T.number(after: "bg ", in: T.contents(log)))
        // The subshell must have set its trap before the TERM, or the test proves nothing.
        #expect(T.eventually { T.contents("/proc/\(background)/comm") == "sleep\n" })

        reactor.signalGroup(pid: pid, SIGTERM)
        exits += T.collectExits(reactor, count: 1)
        #expect(exits.first?.signal == SIGTERM)
        #expect(T.eventually { !T.isRunning(background) }, "the TERM-immune job \(background) survived")
        Self.expectGroupGone(pid)
    }

    /// Spawns a tree in a reactor that is gone when this returns.
    private func spawnTreeInDroppedReactor(dir: String) throws -> Int32 {
        let reactor = try ChildReactor()
        return try reactor.spawn(T.request(["sh", "-c", "sleep 1000 & sleep 1000"], log: "\(dir)/dropped.log"))
    }

    @Test("dropping the reactor kills and reaps what still runs")
    func deinitKillsEverything() throws {
        let dir = try T.makeTempDirectory()
        defer { T.removeDirectory(dir) }
        let pid = try spawnTreeInDroppedReactor(dir: dir)
        var status: Int32 = 0
        #expect(waitpid(pid, &status, WNOHANG) == -1 && errno == ECHILD, "the leader was not reaped")
        Self.expectGroupGone(pid)
    }

    @Test("killLeftoverGroup SIGKILLs an existing group and refuses dangerous ids")
    func killLeftoverGroup() throws {
        let dir = try T.makeTempDirectory()
        defer { T.removeDirectory(dir) }
        let reactor = try ChildReactor()
        let pid = try reactor.spawn(T.request(["sleep", "1000"], log: "\(dir)/left.log"))
        #expect(ChildReactor.killLeftoverGroup(pid))
        #expect(T.collectExits(reactor, count: 1).first?.signal == SIGKILL)
        Self.expectGroupGone(pid)
        #expect(!ChildReactor.killLeftoverGroup(pid), "nothing left to kill")
        for dangerous in [-1, 0, 1, getpgrp()] {
            #expect(!ChildReactor.killLeftoverGroup(dangerous))
        }
    }

    @Test("signalGroup does nothing for a pid already reported")
    func signalAfterExitIsNoOp() throws {
        let dir = try T.makeTempDirectory()
        defer { T.removeDirectory(dir) }
        let reactor = try ChildReactor()
        let pid = try reactor.spawn(T.request(["true"], log: "\(dir)/t.log"))
        #expect(T.collectExits(reactor, count: 1).count == 1)
        #expect(!reactor.signalGroup(pid: pid, SIGKILL))
        #expect(!reactor.signalGroup(pid: 1, SIGKILL))
    }
}
