import Dispatch
import Foundation
import Synchronization

/// SIGINT/SIGTERM handling through dispatch sources (no async-signal-safety traps): the
/// handler runs on a normal queue and may take locks or block briefly.
///
/// `@unchecked Sendable`: `sources` is written once in `init` and only kept alive after;
/// `received` is behind a Mutex.
final class SignalTrap: @unchecked Sendable {
    private let received = Mutex<[Int32]>([])
    private var sources: [DispatchSourceSignal] = []

    /// The first signal received, if any.
    var first: Int32? { received.withLock { $0.first } }

    /// Installs handlers for SIGINT and SIGTERM; `handler` runs once per signal received.
    init(_ handler: @escaping @Sendable (Int32) -> Void) {
        let queue = DispatchQueue(label: "baton.signals")
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { [self] in
                self.received.withLock { $0.append(number) }
                handler(number)
            }
            source.resume()
            sources.append(source)
        }
    }
}
