/// Why a local cluster (for the demo or the benchmark) could not run: its set-up or its
/// servers failed, as distinct from a check that ran and found a fault.
struct SetupError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
