/// Why `raftkv serve` refused to start: each is printed as one line before a non-zero exit.
struct ServeError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
