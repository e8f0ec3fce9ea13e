import LatchAudit
import Logging
import ServiceLifecycle

/// Signs a ledger checkpoint at most every `interval` (default one second) while the tree grows,
/// and a last one on shutdown (it is first in the service group, so it stops after HTTP has
/// drained and every answered call's records are in). Nothing here is on the call path.
struct LedgerCheckpointService: Service {
    let checkpointer: LedgerCheckpointer
    let interval: Duration
    let logger: Logger

    func run() async throws {
        while true {
            _ = try? await cancelOnGracefulShutdown { try await Task.sleep(for: self.interval) }
            await self.checkpoint()
            if Task.isCancelled || Task.isShuttingDownGracefully { return }
        }
    }

    func checkpoint() async {
        do {
            if let checkpoint = try await self.checkpointer.checkpoint() {
                self.logger.debug("ledger checkpoint signed", metadata: ["ledger.size": "\(checkpoint.size)"])
            }
        } catch {
            self.logger.error("signing a ledger checkpoint failed; retrying", metadata: ["error": "\(error)"])
        }
    }
}
