import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The demo's standard output: whole lines, and on a terminal one live progress line below
/// them that each new line clears and redraws.
final class DemoConsole: Sendable {
    let isTerminal = isatty(STDOUT_FILENO) == 1
    private let progress = Mutex<String?>(nil)

    /// Prints `text` as whole lines, above the progress line.
    func line(_ text: String = "") {
        progress.withLock { current in
            if isTerminal, current != nil { emit("\r\u{1B}[K") }
            emit(text + "\n")
            if isTerminal, let current { emit(current) }
        }
    }

    /// Shows `text` as the progress: redrawn in place on a terminal, else printed as a line.
    func showProgress(_ text: String) {
        progress.withLock { current in
            if isTerminal {
                emit("\r\u{1B}[K" + text)
                current = text
            } else {
                emit(text + "\n")
            }
        }
    }

    /// Ends the progress line, leaving its last state on screen.
    func endProgress() {
        progress.withLock { current in
            if isTerminal, current != nil { emit("\n") }
            current = nil
        }
    }

    private func emit(_ text: String) {
        var remaining = Array(text.utf8)[...]
        while !remaining.isEmpty {
            let written = remaining.withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                return
            }
            remaining = remaining.dropFirst(written)
        }
    }
}
