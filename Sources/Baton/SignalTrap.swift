import Dispatch
import Foundation
import Synchronization

/// SIGINT/SIGTERM handling through dispatch sources (no async-signal-safety traps): the
/// handler runs on a normal queue and may take locks or block briefly.
final class SignalTrap: Sendable {
    private let received = Mutex<[Int32]>([])
    private let sources = Mutex<[DispatchSourceSignal]>([])

    /// The first signal received, if any.
    var first: Int32? { received.withLock { $0.first } }

    /// Installs handlers for SIGINT and SIGTERM; `handler` runs once per signal received.
    static func install(_ handler: @escaping @Sendable (Int32) -> Void) -> SignalTrap {
        let trap = SignalTrap()
        let queue = DispatchQueue(label: "baton.signals")
        var made: [DispatchSourceSignal] = []
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler {
                trap.received.withLock { $0.append(number) }
                handler(number)
            }
            source.resume()
            made.append(source)
        }
        trap.sources.withLock { $0 = made }
        return trap
    }
}
