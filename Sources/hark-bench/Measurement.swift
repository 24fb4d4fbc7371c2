#if canImport(Glibc)
@_exported import Glibc
#elseif canImport(Darwin)
@_exported import Darwin
#endif

/// One subcommand of hark-bench.
struct Benchmark {
    let name: String
    let summary: String
    let run: () -> Void
}

/// A measured rate.
struct Rate {
    let iterations: Int
    let duration: Duration
    var perSecond: Double {
        let c = duration.components
        return Double(iterations) / (Double(c.seconds) + Double(c.attoseconds) * 1e-18)
    }
}

/// Keeps the optimiser from discarding a result.
@inline(never) func blackHole<T>(_ value: T) { withExtendedLifetime(value) {} }

/// Measures `body` with `ContinuousClock`: a warm-up, then a calibration that doubles a batch
/// until it takes ≥ 1/10 of `target`, then ONE timed run of a fixed iteration count chosen so
/// that it lasts about `target` (≥ 1 s by default).
func measure(target: Duration = .seconds(1), _ body: () -> Void) -> Rate {
    let clock = ContinuousClock()
    for _ in 0..<8 { body() }                               // warm-up: caches, lazy init, page faults
    var batch = 8
    var elapsed = Duration.zero
    while true {
        elapsed = clock.measure { for _ in 0..<batch { body() } }
        if elapsed >= target / 10 || batch >= 1 << 30 { break }
        batch *= 2
    }
    let scale = max(1.0, (target / elapsed) * 1.05)         // aim a little past target
    let iterations = Int(Double(batch) * scale)
    let duration = clock.measure { for _ in 0..<iterations { body() } }
    return Rate(iterations: iterations, duration: duration)
}

func formatRate(_ value: Double) -> String {
    let rounded = Int(value.rounded())
    return String(rounded).leftPadded(to: 7)
}

/// `value` with two decimals, e.g. "0.56" (no Foundation).
func formatFixed2(_ value: Double) -> String {
    let hundredths = Int((value * 100).rounded())
    let fraction = String(abs(hundredths) % 100)
    return "\(hundredths / 100).\(fraction.count == 1 ? "0" + fraction : fraction)"
}

extension String {
    func rightPadded(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }

    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
