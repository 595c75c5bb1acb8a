import Raft

/// The transport a simulated node sends through: envelopes wait in an outbox, which the
/// harness moves into the `SimulatedNetwork` after every input.
///
/// Every envelope goes through the wire format on its way: it is encoded with `EnvelopeCodec`
/// and what is delivered is what the decoder made of the bytes, so the simulated cluster runs
/// on exactly what a network peer would receive. A frame that fails to decode, or decodes to
/// something else, is a codec bug: the outbox records it and the harness turns it into a
/// violation that names the seed.
struct SimulatedTransport: Transport {
    let outbox: Outbox

    /// Envelopes sent and not yet collected, in order.
    final class Outbox {
        var envelopes: [Envelope] = []
        /// Envelopes the codec did not carry intact, described; never expected.
        var codecFailures: [String] = []
        let codec = EnvelopeCodec(maxFrameSize: Int(Int32.max))
        /// Whether each decoded envelope is compared with the one sent: on in simulations,
        /// off where only the cost of the wire format is wanted (throughput measurements).
        let comparesRoundTrip: Bool

        init(comparesRoundTrip: Bool = true) {
            self.comparesRoundTrip = comparesRoundTrip
        }

        func take() -> [Envelope] {
            defer { envelopes = [] }
            return envelopes
        }

        func takeCodecFailures() -> [String] {
            defer { codecFailures = [] }
            return codecFailures
        }

        func pass(_ envelope: Envelope) {
            do throws(EnvelopeCodecError) {
                let decoded = try codec.decode(codec.encode(envelope))
                guard !comparesRoundTrip || decoded == envelope else {
                    codecFailures.append("codec: \(envelope) decoded as \(decoded)")
                    return
                }
                envelopes.append(decoded)
            } catch {
                codecFailures.append("codec: \(envelope) failed to round-trip: \(error)")
            }
        }
    }

    func send(_ envelopes: [Envelope]) {
        for envelope in envelopes { outbox.pass(envelope) }
    }
}
