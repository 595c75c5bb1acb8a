import Synchronization

/// Where one request's caller waits: completed exactly once, by the node or by the caller's
/// cancellation, whichever comes first. The other is then ignored.
///
/// This is what lets a cancelled `propose` or `read` return at once (with
/// `RaftNodeError.cancelled`) while the node still holds the request: the node's later
/// completion finds the slot done and does nothing.
///
/// The continuation is an unchecked one: the slot's state already guarantees it is resumed
/// exactly once, and a checked continuation would add an allocation and a check to every
/// request on the commit path.
final class RequestSlot<Value: Sendable>: Sendable {
    private enum State {
        case idle
        case waiting(UnsafeContinuation<Result<Value, RaftNodeError>, Never>)
        case done
    }

    private let state = Mutex(State.idle)

    /// Waits for the slot's result; `submit` runs once the waiter is in place and hands the
    /// slot to the node. Cancelling the calling task completes the slot with `.cancelled`.
    func wait(submit: () -> Void) async -> Result<Value, RaftNodeError> {
        await withTaskCancellationHandler {
            await withUnsafeContinuation { continuation in
                let installed = state.withLock { state -> Bool in
                    guard case .idle = state else { return false }
                    state = .waiting(continuation)
                    return true
                }
                guard installed else { return continuation.resume(returning: .failure(.cancelled)) }
                submit()
            }
        } onCancel: {
            complete(.failure(.cancelled))
        }
    }

    /// Whether nobody completed the slot yet.
    var isPending: Bool {
        state.withLock { state in
            if case .done = state { return false }
            return true
        }
    }

    /// Completes the slot; does nothing if it is already complete.
    func complete(_ result: Result<Value, RaftNodeError>) {
        let continuation = state.withLock { state -> UnsafeContinuation<Result<Value, RaftNodeError>, Never>?? in
            switch state {
            case .done: return nil
            case .idle:
                state = .done
                return .some(nil)
            case .waiting(let continuation):
                state = .done
                return .some(continuation)
            }
        }
        guard let continuation else { return }
        continuation?.resume(returning: result)
    }
}
