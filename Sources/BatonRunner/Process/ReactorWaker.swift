import CBatonSys
import Glibc

/// Makes a blocked ``ChildReactor/poll(until:)`` return, from any thread.
///
/// An `eventfd(2)` in the reactor's poll set. `write(2)` on it is atomic and thread-safe,
/// and wakes are coalesced: several `wake()` calls before the reactor looks make one
/// return. It is Sendable without `@unchecked`: its only state is an immutable descriptor.
/// The waker owns (and closes) the descriptor, so a waker kept by another thread after the
/// reactor is gone never writes to a closed or reused descriptor number.
public final class ReactorWaker: Sendable {
    let fd: Int32

    init() throws(SpawnError) {
        let fd = baton_eventfd()
        guard fd >= 0 else { throw .system("eventfd", errno) }
        self.fd = fd
    }

    deinit {
        close(fd)
    }

    /// Wakes the reactor's current or next `poll`. Never blocks, safe from any thread.
    public func wake() {
        var one: UInt64 = 1
        // EAGAIN means the counter is already (absurdly) high: a wake is pending anyway.
        _ = withUnsafeBytes(of: &one) { write(fd, $0.baseAddress, $0.count) }
    }

    /// Resets the counter after the reactor saw the descriptor readable.
    func drain() {
        var value: UInt64 = 0
        _ = withUnsafeMutableBytes(of: &value) { read(fd, $0.baseAddress, $0.count) }
    }
}
