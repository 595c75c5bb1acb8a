import Raft

/// The transport a simulated node sends through: envelopes wait in an outbox, which the
/// harness moves into the `SimulatedNetwork` after every input.
struct SimulatedTransport: Transport {
    let outbox: Outbox

    /// Envelopes sent and not yet collected, in order.
    final class Outbox {
        var envelopes: [Envelope] = []

        func take() -> [Envelope] {
            defer { envelopes = [] }
            return envelopes
        }
    }

    func send(_ envelopes: [Envelope]) {
        outbox.envelopes.append(contentsOf: envelopes)
    }
}
