/// The verdict of a ``LinearizabilityChecker``.
public enum LinearizabilityResult: Sendable, Hashable {
    /// Some order of the operations, consistent with real time, explains every result.
    case linearizable
    /// No order explains the results for `key`.
    ///
    /// `operations` are indexes into the checked history: the operations none of which
    /// could take effect next at the deepest point the search reached. `explanation`
    /// describes that point for a human.
    case violation(key: String, operations: [Int], explanation: String)
    /// The search gave up before reaching a verdict, for the stated reason.
    case unknown(String)
}
