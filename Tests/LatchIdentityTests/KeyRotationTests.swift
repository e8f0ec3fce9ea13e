import LatchCore
import LatchIdentity
import Testing

@Suite("KeyRotation")
struct KeyRotationTests {
    let policy = KeyRotationPolicy(keyLifetime: 1000, prepareAt: 0.5, activateAt: 0.75, publishLead: 100)

    func key(_ id: String, _ state: KeyState, from: Int64, created: Int64? = nil) -> KeySlotEntry {
        KeySlotEntry(keyID: id, state: state, notBefore: from, notAfter: from + 1000, createdAt: created ?? from)
    }

    @Test("no keys: prepare one")
    func bootstrap() {
        #expect(KeyRotation.evaluate(keys: [], policy: self.policy, now: 0) == [.prepare])
    }

    @Test("a prepared key and no active one: publish and activate it at once")
    func bootstrapActivate() {
        #expect(
            KeyRotation.evaluate(keys: [key("a", .prepared, from: 0)], policy: self.policy, now: 0)
                == [.publish(keyID: "a"), .activate(keyID: "a", retiring: nil)])
    }

    @Test("the active key young: nothing to do")
    func steady() {
        #expect(KeyRotation.evaluate(keys: [key("a", .active, from: 0)], policy: self.policy, now: 499).isEmpty)
    }

    @Test("half-way through its life: prepare the next key")
    func prepareNext() {
        #expect(KeyRotation.evaluate(keys: [key("a", .active, from: 0)], policy: self.policy, now: 500) == [.prepare])
    }

    @Test("a prepared next key is published before it is used")
    func publishNext() {
        let keys = [key("a", .active, from: 0), key("b", .prepared, from: 500)]
        #expect(KeyRotation.evaluate(keys: keys, policy: self.policy, now: 510) == [.publish(keyID: "b")])
    }

    @Test("activation waits for activateAt and the publish lead")
    func activateNext() {
        let keys = [key("a", .active, from: 0), key("b", .published, from: 700)]
        #expect(KeyRotation.evaluate(keys: keys, policy: self.policy, now: 740).isEmpty)  // before activateAt
        #expect(KeyRotation.evaluate(keys: keys, policy: self.policy, now: 760).isEmpty)  // published only 60
        #expect(KeyRotation.evaluate(keys: keys, policy: self.policy, now: 800) == [.activate(keyID: "b", retiring: "a")])
    }

    @Test("a retired key stays until its notAfter, then is deleted")
    func deleteRetired() {
        let keys = [key("a", .retired, from: 0), key("b", .active, from: 700)]
        #expect(KeyRotation.evaluate(keys: keys, policy: self.policy, now: 999).isEmpty)
        #expect(KeyRotation.evaluate(keys: keys, policy: self.policy, now: 1000) == [.deleteExpired(before: 1000)])
    }

    @Test("an expired active key is replaced by the published one at once")
    func lapsed() {
        let keys = [key("a", .active, from: 0), key("b", .published, from: 900)]
        #expect(KeyRotation.evaluate(keys: keys, policy: self.policy, now: 1000) == [.activate(keyID: "b", retiring: "a")])
    }

    @Test("surplus keys from two nodes preparing at once are discarded (retired), the newest kept")
    func surplus() {
        let keys = [key("a", .active, from: 0), key("b", .prepared, from: 500), key("c", .prepared, from: 501)]
        #expect(KeyRotation.evaluate(keys: keys, policy: self.policy, now: 510) == [.discard(keyID: "b", from: .prepared), .publish(keyID: "c")])
    }
}
