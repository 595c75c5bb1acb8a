#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A one-line progress bar on standard error, for sweeps run on a terminal.
final class ProgressBar {
    private let total: Int
    private let enabled: Bool
    private var done = 0

    init(total: Int, enabled: Bool) {
        self.total = total
        self.enabled = enabled
    }

    func advance(failures: Int) {
        done += 1
        guard enabled else { return }
        let width = 40
        let filled = total == 0 ? width : done * width / total
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        writeToStandardError("\r[\(bar)] \(done)/\(total) seeds, \(failures) failing")
    }

    func finish() {
        if enabled { writeToStandardError("\n") }
    }

    private func writeToStandardError(_ text: String) {
        var text = text
        text.withUTF8 { bytes in _ = write(STDERR_FILENO, bytes.baseAddress, bytes.count) }
    }
}
