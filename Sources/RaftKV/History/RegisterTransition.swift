/// What one operation does to a single key's value, given the result its client saw.
///
/// Values are interned: a state is an integer naming a distinct value, 0 for an absent
/// key, so that comparing and memoizing states is cheap.
enum RegisterTransition {
    /// A put: a completed one answered `ok`, or one whose outcome is unknown.
    case write(Int)
    /// A get that returned the value `observed`.
    case read(observed: Int)
    /// A compare-and-set that succeeded.
    case swap(expected: Int, new: Int)
    /// A compare-and-set that failed, having found `current`, which is not the value it
    /// expected.
    case failedSwap(current: Int)
    /// A compare-and-set whose outcome is unknown: it succeeded if it found `expected`.
    case maybeSwap(expected: Int, new: Int)
    /// A result that the command could never produce, such as a put answered with a value.
    case impossible

    /// Whether the operation leaves the value as it is wherever it takes effect: a read,
    /// or a compare-and-set known to have failed.
    ///
    /// Such an operation can be linearized as soon as it has been invoked and fits the
    /// current value: any linearization that places it later stays one when it moves
    /// there, since it changes nothing in between, and everything that had to precede it
    /// already does.
    var isObservation: Bool {
        switch self {
        case .read, .failedSwap: true
        case .write, .swap, .maybeSwap, .impossible: false
        }
    }

    /// The value the operation's result says the key held when it took effect.
    var observedValue: Int? {
        switch self {
        case .write, .impossible: nil
        case .read(let observed): observed
        case .swap(let expected, _), .maybeSwap(let expected, _): expected
        case .failedSwap(let current): current
        }
    }

    /// The value the operation writes if it takes effect, when it writes.
    var writtenValue: Int? {
        switch self {
        case .write(let new), .swap(_, let new), .maybeSwap(_, let new): new
        case .read, .failedSwap, .impossible: nil
        }
    }

    /// The value after the operation takes effect on `state`, or `nil` when its result
    /// rules out taking effect on `state`.
    func apply(to state: Int) -> Int? {
        switch self {
        case .write(let new):
            new
        case .read(let observed):
            state == observed ? state : nil
        case .swap(let expected, let new):
            state == expected ? new : nil
        case .failedSwap(let current):
            state == current ? state : nil
        case .maybeSwap(let expected, let new):
            state == expected ? new : state
        case .impossible:
            nil
        }
    }
}
