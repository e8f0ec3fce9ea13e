public import Foundation
import Synchronization

/// Starts test subprocesses one at a time.
///
/// Foundation's `Process` on Linux leaves the parent's other descriptors open in the child, and
/// `Pipe` makes descriptors without close-on-exec. So a child started while another test is
/// between making its pipes and `run()` returning inherits that test's ends: the write end of a
/// pipe (whose reader then never sees end of file) or the socket through which Foundation learns
/// that a process exited (`waitUntilExit` and `terminationHandler` then wait for as long as the
/// inheriting sibling lives). Seen as a hung test run: two tests waiting forever for killed
/// upstream servers whose exit sockets lived on in sibling servers. Every test subprocess starts
/// through ``start(_:prepare:)``: its pipes are made and it is started under one lock, so no other
/// start falls in between. (Latch's own spawner, `ChildProcess`, closes every other descriptor in
/// the child and needs none of this.)
public enum ProcessLaunch {
    private static let lock = Mutex(())

    /// Runs `prepare` (make the pipes, set the standard handles), then `process.run()`, while no
    /// other test subprocess starts; returns what `prepare` made.
    public static func start<Prepared>(_ process: Process, prepare: () throws -> Prepared) throws -> Prepared {
        try Self.lock.withLock { _ throws in
            let prepared = try prepare()
            try process.run()
            return prepared
        }
    }

    /// `process.run()`, while no other test subprocess starts.
    public static func start(_ process: Process) throws {
        try Self.start(process) { () }
    }
}
