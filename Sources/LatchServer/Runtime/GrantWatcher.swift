import LatchCore
import LatchGrants
import Logging
import ServiceLifecycle
import Synchronization

/// Keeps the ``GrantAuthority`` current: installs the identity snapshot's keys and the issuer
/// (they change on rotation and once the listener is bound), loads revocations other nodes or
/// `latch grant revoke` recorded whenever the store's revocation counter moves, and the quarantines in
/// force (other nodes' kill switches, `latch quarantine`) every `pollInterval`,
/// and deletes expired grants, tasks and revocations every `sweepInterval`.
///
/// Errors are logged and retried next round; revocations already loaded stay in force.
struct GrantWatcher: Service {
    let authority: GrantAuthority
    let state: IdentityState
    let issuer: @Sendable () -> String
    let pollInterval: Duration
    let sweepInterval: Duration
    let logger: Logger

    func run() async throws {
        let clock = ContinuousClock()
        var nextSweep = clock.now
        while !Task.isCancelled {
            self.installKeys()
            do {
                let loaded = try await self.authority.syncRevocations()
                if loaded > 0 { self.logger.debug("revocations loaded", metadata: ["count": "\(loaded)"]) }
                try await self.authority.syncQuarantines()
                if clock.now >= nextSweep {
                    nextSweep = clock.now.advanced(by: self.sweepInterval)
                    let deleted = try await self.authority.sweep()
                    if deleted > 0 { self.logger.info("expired grants swept", metadata: ["rows": "\(deleted)"]) }
                }
            } catch {
                self.logger.error("grant store upkeep failed; retrying", metadata: ["error": "\(error)"])
            }
            _ = try? await cancelOnGracefulShutdown { try await Task.sleep(for: self.pollInterval) }
            if Task.isCancelled || Task.isShuttingDownGracefully { return }
        }
    }

    /// Installs the current signing key, validator and issuer (cheap; done every round).
    func installKeys() {
        let snapshot = self.state.snapshot
        self.authority.setKeys(issuer: self.issuer(), signingKey: snapshot.jwtSigningKey, svidValidator: snapshot.validator)
    }
}
