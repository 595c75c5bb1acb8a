import Foundation

/// `bench-chart.svg`: requests per second as bars, one group per operation and pipeline
/// depth, one bar per server; and the latency CDF of each server's SET without pipelining.
enum BenchChart {
    private static let colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b"]

    static func svg(report: BenchReport) -> String {
        let targets = unique(report.points.map(\.target))
        let groups = unique(report.points.map { "\($0.operation.rawValue) -P \($0.pipeline)" })
        let width = 960.0
        let barTop = 50.0
        let barHeight = 220.0
        let left = 80.0
        let plotWidth = width - left - 30
        let cdfTop = barTop + barHeight + 80
        let cdfHeight = 220.0
        let height = cdfTop + cdfHeight + 60
        var svg = """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(left)" y="22" font-size="15" font-weight="bold">raftkv bench: \(report.clients) clients, \(report.valueSize)-byte values, requests per second</text>

            """
        for (index, target) in targets.enumerated() {
            svg += "<rect x=\"\(f(left + Double(index) * 230))\" y=\"30\" width=\"12\" height=\"12\" fill=\"\(colors[index % colors.count])\"/>"
            svg += "<text x=\"\(f(left + Double(index) * 230 + 16))\" y=\"40\">\(DemoTimeline.escape(target))</text>\n"
        }
        let peak = max(1, report.points.map(\.requestsPerSecond).max() ?? 1)
        let groupWidth = plotWidth / Double(max(1, groups.count))
        let barWidth = groupWidth * 0.8 / Double(max(1, targets.count))
        svg += "<g id=\"bars\">\n"
        for (groupIndex, group) in groups.enumerated() {
            let groupLeft = left + Double(groupIndex) * groupWidth + groupWidth * 0.1
            for (targetIndex, target) in targets.enumerated() {
                guard let point = report.points.first(where: { $0.target == target && "\($0.operation.rawValue) -P \($0.pipeline)" == group })
                else { continue }
                let height = barHeight * point.requestsPerSecond / peak
                let x = groupLeft + Double(targetIndex) * barWidth
                svg += "<rect x=\"\(f(x))\" y=\"\(f(barTop + barHeight - height))\" width=\"\(f(barWidth - 2))\" height=\"\(f(height))\" fill=\"\(colors[targetIndex % colors.count])\"/>"
                svg += "<text x=\"\(f(x + barWidth / 2))\" y=\"\(f(barTop + barHeight - height - 3))\" text-anchor=\"middle\" font-size=\"10\">\(Figures.grouped(Int(point.requestsPerSecond)))</text>\n"
            }
            svg += "<text x=\"\(f(groupLeft + groupWidth * 0.4))\" y=\"\(f(barTop + barHeight + 16))\" text-anchor=\"middle\">\(group)</text>\n"
        }
        svg += "</g>\n"

        // The CDF of SET -P 1 (the first depth measured) per server, on a logarithmic time axis.
        let firstDepth = report.points.first?.pipeline ?? 1
        let curves = targets.compactMap { target in
            report.points.first { $0.target == target && $0.operation == .set && $0.pipeline == firstDepth }
        }
        let times = curves.flatMap { $0.cdf.map { $0[0] } }.filter { $0 > 0 }
        let low = log10(max(0.01, times.min() ?? 0.1))
        let high = log10(max(times.max() ?? 10, pow(10, low) * 10))
        func x(_ milliseconds: Double) -> Double { left + plotWidth * (log10(max(milliseconds, 0.01)) - low) / (high - low) }
        func y(_ fraction: Double) -> Double { cdfTop + cdfHeight * (1 - fraction) }
        svg += """
            <g id="cdf">
            <text x="\(f(left))" y="\(f(cdfTop - 10))">latency CDF, SET -P \(firstDepth) (log scale)</text>
            <rect x="\(f(left))" y="\(f(cdfTop))" width="\(f(plotWidth))" height="\(f(cdfHeight))" fill="none" stroke="#cccccc"/>
            <text x="\(f(left - 6))" y="\(f(cdfTop + 10))" text-anchor="end">100 %</text>
            <text x="\(f(left - 6))" y="\(f(cdfTop + cdfHeight))" text-anchor="end">0</text>

            """
        var decade = floor(low)
        while decade <= ceil(high) {
            let milliseconds = pow(10, decade)
            if log10(milliseconds) >= low, log10(milliseconds) <= high {
                svg += "<text x=\"\(f(x(milliseconds)))\" y=\"\(f(cdfTop + cdfHeight + 16))\" text-anchor=\"middle\">\(milliseconds < 1 ? String(milliseconds) : String(Int(milliseconds))) ms</text>\n"
            }
            decade += 1
        }
        for curve in curves {
            let color = colors[(targets.firstIndex(of: curve.target) ?? 0) % colors.count]
            let path = curve.cdf.map { "\(f(x($0[0]))),\(f(y($0[1])))" }.joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.5\" points=\"\(path)\"/>\n"
        }
        svg += "</g>\n</svg>\n"
        return svg
    }

    private static func unique(_ values: [String]) -> [String] {
        var seen: Set<String> = []
        return values.filter { seen.insert($0).inserted }
    }

    private static func f(_ value: Double) -> String { String(format: "%.1f", value) }
}
