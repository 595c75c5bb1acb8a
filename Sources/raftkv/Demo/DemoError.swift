/// Why the demo could not run: its set-up or its cluster failed, as distinct from a check
/// that ran and found a fault.
struct DemoError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
