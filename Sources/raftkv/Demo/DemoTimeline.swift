import Foundation

/// `demo-timeline.svg`: throughput and p99 latency per interval over the run, one panel each,
/// with the kill, the election, the snapshot, the restart and the catch-up marked on both.
enum DemoTimeline {
    private static let width = 960.0
    private static let panelHeight = 180.0
    private static let left = 70.0
    private static let right = 20.0
    private static let top = 40.0
    private static let gap = 50.0

    static func svg(report: DemoReport) -> String {
        let plotWidth = width - left - right
        let height = top + 2 * panelHeight + gap + 50
        let duration = max(report.durationSeconds, report.timeline.last.map { $0.at + 0.1 } ?? 0.1)
        func x(_ seconds: Double) -> Double { left + plotWidth * min(1, max(0, seconds / duration)) }

        var svg = """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(left)" y="22" font-size="15" font-weight="bold">\(escape(title(report)))</text>

            """
        let throughput = report.timeline.map { Optional(($0.at, $0.operationsPerSecond)) }
        let latency = report.timeline.map { interval in interval.p99Milliseconds.map { (interval.at, $0) } }
        svg += panel(
            id: "throughput", label: "acknowledged ops/s (per 100 ms)", points: throughput, originY: top, color: "#1f77b4",
            x: x, plotWidth: plotWidth)
        svg += panel(
            id: "p99", label: "p99 latency, ms (per 100 ms, log scale)", points: latency, originY: top + panelHeight + gap,
            color: "#d62728", logarithmic: true, x: x, plotWidth: plotWidth)

        let bottom = top + 2 * panelHeight + gap
        for (index, event) in report.events.enumerated() {
            let position = x(event.at)
            let color = event.kind == .kill ? "#d62728" : event.kind == .election ? "#2ca02c" : "#7f7f7f"
            // Labels near the right edge run leftwards, so none is cut off.
            let leftwards = position > left + plotWidth * 0.75
            svg += """
                <g class="marker" id="marker-\(event.kind.rawValue)">
                <line x1="\(format(position))" y1="\(format(top))" x2="\(format(position))" y2="\(format(bottom))" stroke="\(color)" stroke-dasharray="4 3"/>
                <text x="\(format(position + (leftwards ? -3 : 3)))" y="\(format(top + 12 + Double(index % 5) * 13))" fill="\(color)" text-anchor="\(leftwards ? "end" : "start")">\(escape(eventLabel(event)))</text>
                </g>

                """
        }
        for second in stride(from: 0.0, through: duration, by: tickStep(duration)) {
            svg += "<text x=\"\(format(x(second)))\" y=\"\(format(bottom + 18))\" text-anchor=\"middle\">\(Int(second)) s</text>\n"
        }
        svg += "<text x=\"\(format(left + plotWidth / 2))\" y=\"\(format(bottom + 38))\" text-anchor=\"middle\">time since the load began</text>\n"
        svg += "</svg>\n"
        return svg
    }

    /// One panel; `points` holds nil for an interval without a value, where the line breaks.
    /// A logarithmic panel spans the decades its values reach, so an outage's seconds-long
    /// latencies do not flatten the milliseconds of the rest of the run.
    private static func panel(
        id: String, label: String, points: [(Double, Double)?], originY: Double, color: String, logarithmic: Bool = false,
        x: (Double) -> Double, plotWidth: Double
    ) -> String {
        let values = points.compactMap { $0?.1 }
        let peak = max(1, values.max() ?? 1)
        let top = logarithmic ? pow(10, ceil(log10(peak))) : peak
        let bottom = logarithmic ? pow(10, floor(log10(max(0.01, values.min() ?? 1)))) : 0
        func y(_ value: Double) -> Double {
            let fraction =
                logarithmic ? (log10(max(value, bottom)) - log10(bottom)) / (log10(top) - log10(bottom)) : value / top
            return originY + panelHeight * (1 - fraction)
        }
        var out = """
            <g id="panel-\(id)">
            <rect x="\(format(left))" y="\(format(originY))" width="\(format(plotWidth))" height="\(format(panelHeight))" fill="none" stroke="#cccccc"/>
            <text x="\(format(left))" y="\(format(originY - 6))">\(escape(label))</text>

            """
        let ticks = logarithmic ? stride(from: log10(bottom), through: log10(top), by: 1).map { pow(10, $0) } : [0, top]
        for tick in ticks {
            let text = tick > 0 && tick < 1 ? String(tick) : Figures.grouped(Int(tick))
            out += "<text x=\"\(format(left - 6))\" y=\"\(format(y(tick) + 4))\" text-anchor=\"end\">\(escape(text))</text>\n"
        }
        for run in points.split(whereSeparator: { $0 == nil }) {
            let path = run.compactMap { $0 }.map { "\(format(x($0.0))),\(format(y($0.1)))" }.joined(separator: " ")
            out += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.5\" points=\"\(path)\"/>\n"
        }
        return out + "</g>\n"
    }

    private static func title(_ report: DemoReport) -> String {
        "raftkv demo: \(report.members.count) nodes, \(report.clients) clients, \(Figures.decimal(report.durationSeconds, 0)) s — "
            + (report.passed ? "every check passed" : "a check FAILED")
    }

    private static func eventLabel(_ event: DemoReport.Event) -> String {
        switch event.kind {
        case .kill: "kill: \(event.detail)"
        case .election: "elected: \(event.detail)"
        case .snapshot: "snapshot: \(event.detail)"
        case .restart: "restart: \(event.detail)"
        case .caughtUp: "caught up: \(event.detail)"
        }
    }

    private static func tickStep(_ duration: Double) -> Double {
        duration <= 10 ? 1 : duration <= 30 ? 2 : duration <= 120 ? 10 : 30
    }

    private static func format(_ value: Double) -> String { String(format: "%.1f", value) }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
