import Synchronization

/// What happened to the demo's cluster and when: printed as it happens, kept for the report
/// and the timeline.
final class DemoEvents: Sendable {
    private let recorder: DemoRecorder
    private let console: DemoConsole
    private let events = Mutex<[DemoReport.Event]>([])

    init(recorder: DemoRecorder, console: DemoConsole) {
        self.recorder = recorder
        self.console = console
    }

    /// Notes `kind` now and prints `message` with the time.
    func note(_ kind: DemoReport.Event.Kind, _ detail: String, message: String) {
        let at = Double(recorder.now) / 1e9
        events.withLock { $0.append(DemoReport.Event(kind: kind, at: at, detail: detail)) }
        console.line("  [" + Figures.decimal(at, 1).leftPadded(to: 5, with: " ") + "s] " + message)
    }

    var all: [DemoReport.Event] { events.withLock { $0 } }
}
