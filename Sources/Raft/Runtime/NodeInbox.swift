import DequeModule
import RaftCore
import Synchronization
import WAL

/// Everything the run loop takes in one go.
struct InboxBatch<Request> {
    var ticks = 0
    var envelopes: [Envelope] = []
    var unreachable: [NodeID] = []
    var durable: [(batch: UInt64, error: WALError?)] = []
    var requests: [Request] = []
    /// Whether a snapshot written off the loop is done.
    var snapshotWritten = false
}

/// The queue between a `RaftNode`'s callers (requests), its transport (envelopes,
/// unreachable peers), its clock (ticks) and its log (durable batches) on one side, and the
/// run loop on the other (and the snapshots it writes on another task).
///
/// Requests and envelopes have separate bounds, because they mean different things when
/// full: a request beyond its bound fails at once with `.overloaded` (the caller may back
/// off), while an envelope beyond its bound is dropped and counted (Raft tolerates loss, and
/// a busy leader must not refuse clients because its followers' acknowledgements queue up).
/// Ticks and log completions are never refused.
final class NodeInbox<Request: Sendable>: Sendable {
    private struct State: ~Copyable {
        var ticks = 0
        var envelopes: Deque<Envelope> = []
        var envelopeBytes = 0
        var unreachable: [NodeID] = []
        var durable: [(batch: UInt64, error: WALError?)] = []
        var requests: Deque<Request> = []
        var snapshotWritten = false
        var closed = false
        var waiter: CheckedContinuation<Void, Never>?
        var droppedEnvelopes: UInt64 = 0
    }

    private let state = Mutex(State())
    private let maxRequests: Int
    private let maxEnvelopes: Int
    private let maxEnvelopeBytes: Int
    /// Ticks beyond this many pending are folded away: a loop that fell that far behind
    /// should not then fire a burst of elections.
    private let maxTicks: Int

    init(maxRequests: Int, maxEnvelopes: Int, maxEnvelopeBytes: Int, maxTicks: Int) {
        self.maxRequests = maxRequests
        self.maxEnvelopes = maxEnvelopes
        self.maxEnvelopeBytes = maxEnvelopeBytes
        self.maxTicks = maxTicks
    }

    enum Refusal: Error {
        case full
        case closed
    }

    /// Queues a request, or says why not.
    func submit(_ request: Request) -> Refusal? {
        let (refusal, waiter) = state.withLock { state -> (Refusal?, CheckedContinuation<Void, Never>?) in
            if state.closed { return (.closed, nil) }
            if state.requests.count >= maxRequests { return (.full, nil) }
            state.requests.append(request)
            return (nil, Self.takeWaiter(&state))
        }
        waiter?.resume()
        return refusal
    }

    /// Queues an envelope, or drops it (and counts the drop) when the envelope queue is full.
    func deliver(_ envelope: Envelope) {
        let size = envelope.approximateByteSize
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.closed else { return nil }
            guard state.envelopes.count < maxEnvelopes, state.envelopeBytes + size <= maxEnvelopeBytes else {
                state.droppedEnvelopes += 1
                return nil
            }
            state.envelopes.append(envelope)
            state.envelopeBytes += size
            return Self.takeWaiter(&state)
        }
        waiter?.resume()
    }

    func unreachable(_ peer: NodeID) {
        signal { $0.unreachable.append(peer) }
    }

    func tick() {
        let maxTicks = maxTicks
        signal { $0.ticks = min($0.ticks + 1, maxTicks) }
    }

    func durable(_ batch: UInt64, error: WALError?) {
        signal { $0.durable.append((batch, error)) }
    }

    func snapshotWritten() {
        signal { $0.snapshotWritten = true }
    }

    /// Envelopes dropped because the queue was full.
    var droppedEnvelopes: UInt64 { state.withLock { $0.droppedEnvelopes } }

    /// Refuses further requests and envelopes; what is queued can still be taken.
    func close() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.closed = true
            return state.waiter.take()
        }
        waiter?.resume()
    }

    /// Takes everything queued (at most `maxRequests` requests and `maxEnvelopes`
    /// envelopes), waiting until something is; nil once closed and empty.
    func take(maxRequests: Int, maxEnvelopes: Int) async -> InboxBatch<Request>? {
        while true {
            if let batch = takeQueued(maxRequests: maxRequests, maxEnvelopes: maxEnvelopes) { return batch }
            let closed = state.withLock { $0.closed }
            if closed { return nil }
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.closed || Self.hasWork(state) { return true }
                    state.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        }
    }

    /// Takes what is queued without waiting; nil when nothing is.
    private func takeQueued(maxRequests: Int, maxEnvelopes: Int) -> InboxBatch<Request>? {
        state.withLock { state -> InboxBatch<Request>? in
            guard Self.hasWork(state) else { return nil }
            var batch = InboxBatch<Request>()
            batch.ticks = state.ticks
            state.ticks = 0
            swap(&batch.unreachable, &state.unreachable)
            swap(&batch.durable, &state.durable)
            swap(&batch.snapshotWritten, &state.snapshotWritten)
            let envelopes = min(maxEnvelopes, state.envelopes.count)
            batch.envelopes.reserveCapacity(envelopes)
            for _ in 0..<envelopes {
                let envelope = state.envelopes.removeFirst()
                state.envelopeBytes -= envelope.approximateByteSize
                batch.envelopes.append(envelope)
            }
            let requests = min(maxRequests, state.requests.count)
            batch.requests.reserveCapacity(requests)
            for _ in 0..<requests { batch.requests.append(state.requests.removeFirst()) }
            return batch
        }
    }

    private func signal(_ body: (inout State) -> Void) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            body(&state)
            return Self.takeWaiter(&state)
        }
        waiter?.resume()
    }

    private static func hasWork(_ state: borrowing State) -> Bool {
        state.ticks > 0 || !state.envelopes.isEmpty || !state.unreachable.isEmpty || !state.durable.isEmpty
            || !state.requests.isEmpty || state.snapshotWritten
    }

    private static func takeWaiter(_ state: inout State) -> CheckedContinuation<Void, Never>? {
        state.waiter.take()
    }
}

extension Envelope {
    /// Roughly the memory the envelope holds, for the inbox's byte bound.
    var approximateByteSize: Int {
        switch self {
        case .raft(let message): 96 + message.entries.reduce(0) { $0 + $1.byteSize }
        case .snapshotChunk(let chunk): 96 + chunk.chunk.bytes.count
        case .snapshotAck: 64
        }
    }
}
