import LatchCore
import LatchIdentity
import Logging
import ServiceLifecycle

/// Keeps ``IdentityState`` current: performs due CA rotation steps (``IdentityService/tick()``)
/// every `rotationCheckInterval`, and reloads registration entries whenever the store's revision
/// counter moves (a `latch entry` command against the data directory, another node) — checked
/// every `entryPollInterval`. Any change wakes the Workload API streams.
///
/// Errors are logged and retried on the next round; the last good snapshot keeps serving, and
/// SVIDs it would mint still carry the CA's own expiry, so a store outage cannot extend trust.
struct IdentityWatcher: Service {
    let identity: IdentityService
    let store: any IdentityStore
    let state: IdentityState
    let rotationCheckInterval: Duration
    let entryPollInterval: Duration
    let logger: Logger

    func run() async throws {
        let clock = ContinuousClock()
        var nextRotationCheck = clock.now.advanced(by: self.rotationCheckInterval)
        while !Task.isCancelled {
            _ = try? await cancelOnGracefulShutdown { try await Task.sleep(for: self.entryPollInterval) }
            if Task.isCancelled || Task.isShuttingDownGracefully { return }
            let rotate = clock.now >= nextRotationCheck
            if rotate { nextRotationCheck = clock.now.advanced(by: self.rotationCheckInterval) }
            do {
                try await Self.refresh(identity: self.identity, store: self.store, state: self.state, rotate: rotate, logger: self.logger)
            } catch {
                self.logger.error("identity refresh failed; serving the last snapshot", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Builds the first snapshot: bootstraps CA keys if the store has none, loads entries.
    static func initialSnapshot(identity: IdentityService, store: any IdentityStore) async throws -> IdentitySnapshot {
        try await identity.tick()
        let revision = try await store.entriesRevision()
        let entries = try await store.listEntries()
        let bundle = await identity.bundle()
        return IdentitySnapshot(
            x509Authority: await identity.activeKey(.x509Authority), jwtSigningKey: await identity.activeKey(.jwtSigning),
            bundle: bundle, validator: await identity.jwtValidator(), entries: entries, entriesRevision: revision, generation: 0)
    }

    /// One round: rotation (when `rotate`) or a reload of keys other nodes may have rotated, then
    /// entries if their revision moved. Publishes a new snapshot only when something changed.
    static func refresh(identity: IdentityService, store: any IdentityStore, state: IdentityState, rotate: Bool, logger: Logger) async throws {
        if rotate {
            let done = try await identity.tick()
            for (purpose, actions) in done where !actions.isEmpty {
                logger.notice("CA key rotation", metadata: ["key.purpose": "\(purpose.rawValue)", "actions": "\(actions.count)"])
            }
        }
        let current = state.snapshot
        let revision = try await store.entriesRevision()
        let entries = revision == current.entriesRevision ? current.entries : try await store.listEntries()
        let bundle = await identity.bundle()
        let x509Authority = await identity.activeKey(.x509Authority)
        let jwtSigningKey = await identity.activeKey(.jwtSigning)
        let validator = await identity.jwtValidator()
        state.update { snapshot in
            let changed =
                revision != snapshot.entriesRevision || bundle.sequence != snapshot.bundle.sequence
                || x509Authority?.keyID != snapshot.x509Authority?.keyID || jwtSigningKey?.keyID != snapshot.jwtSigningKey?.keyID
            guard changed else { return false }
            snapshot.entries = entries
            snapshot.entriesRevision = revision
            snapshot.bundle = bundle
            snapshot.x509Authority = x509Authority
            snapshot.jwtSigningKey = jwtSigningKey
            snapshot.validator = validator
            return true
        }
    }
}
