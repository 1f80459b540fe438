#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

extension SVG {
  /// An axis of a chart: the data range it shows and its ticks, each with its label.
  package struct Axis {
    /// The range shown, from the first to the last tick (data units, not logarithms).
    package var lower: Double
    package var upper: Double
    package var logarithmic: Bool
    package var ticks: [Double]
    package var labels: [String]

    /// A linear axis over `[low, high]` with at most `maxTicks` ticks at multiples of 1, 2 or 5
    /// times a power of ten, widened to the nearest ticks around the data; with `integer`, steps
    /// are whole numbers (an axis of steps or counts never shows 1.25).
    package static func linear(_ low: Double, _ high: Double, maxTicks: Int = 6, integer: Bool = false)
      -> Axis
    {
      var (low, high) = (low.isFinite ? low : 0, high.isFinite ? high : 1)
      if low > high { swap(&low, &high) }
      if high == low {
        let pad = low == 0 ? 1 : abs(low) / 10
        (low, high) = integer ? (low - 1, high + 1) : (low - pad, high + pad)
      }
      let raw = (high - low) / Double(max(maxTicks - 1, 1))
      var exponent = Int(floor(log10(raw)))
      var step = 0.0
      var decimals = 0
      search: while true {
        for mantissa in [1.0, 2, 5] {
          let candidate = mantissa * pow(10, Double(exponent))
          if candidate >= raw * (1 - 1e-12) && (!integer || candidate >= 1) {
            step = candidate
            decimals = max(0, -exponent)
            break search
          }
        }
        exponent += 1
      }
      let first = floor(low / step + 1e-9)
      let last = ceil(high / step - 1e-9)
      let ticks = stride(from: first, through: last, by: 1).map { $0 * step }
      let labels = ticks.map { tickLabel($0, decimals: decimals) }
      return Axis(lower: first * step, upper: last * step, logarithmic: false, ticks: ticks, labels: labels)
    }

    /// A logarithmic axis over `[low, high]` (both > 0) with ticks at 1, 2 and 5 times the powers
    /// of ten, or at the powers of ten alone, or at every second, third ... power, whichever is the
    /// densest with at most `maxTicks` ticks in the range. The axis spans the data (a decade of
    /// empty axis would squeeze the data), widened to the nearest ticks only when fewer than two
    /// ticks fall inside.
    package static func logarithmic(_ low: Double, _ high: Double, maxTicks: Int = 8) -> Axis {
      var (low, high) = (low, high)
      if !(low > 0 && low.isFinite) { low = high > 0 && high.isFinite ? high / 10 : 1 }
      if !(high > 0 && high.isFinite) { high = low * 10 }
      if low > high { swap(&low, &high) }
      if high <= low * (1 + 1e-9) { (low, high) = (low / 2, high * 2) }
      let lowDecade = Int(floor(log10(low) + 1e-9))
      let highDecade = Int(ceil(log10(high) - 1e-9))
      func candidates(_ mantissas: [Double], every: Int) -> [Double] {
        var values: [Double] = []
        var e = lowDecade - every - (((lowDecade % every) + every) % every)
        while e <= highDecade + every {
          for m in mantissas { values.append(m * pow(10, Double(e))) }
          e += every
        }
        return values
      }
      func inside(_ values: [Double]) -> [Double] {
        values.filter { $0 >= low * (1 - 1e-9) && $0 <= high * (1 + 1e-9) }
      }
      var choices = [candidates([1, 2, 5], every: 1)]
      for every in [1, 2, 3, 4, 5, 10, 20, 50, 100] { choices.append(candidates([1], every: every)) }
      if let ticks = choices.map(inside).first(where: { $0.count >= 2 && $0.count <= maxTicks }) {
        return Axis(lower: low, upper: high, logarithmic: true, ticks: ticks, labels: ticks.map(logLabel))
      }
      // Less than a tick step of data: the nearest 1-2-5 ticks around it.
      let values = choices[0]
      let start = values.lastIndex { $0 <= low * (1 + 1e-9) } ?? 0
      let end = values.firstIndex { $0 >= high * (1 - 1e-9) } ?? values.count - 1
      let ticks = Array(values[start...max(start + 1, end)])
      return Axis(
        lower: ticks.first!, upper: ticks.last!, logarithmic: true, ticks: ticks, labels: ticks.map(logLabel))
    }

    /// Where `value` falls along the axis, from 0 at `lower` to 1 at `upper`.
    package func fraction(_ value: Double) -> Double {
      if logarithmic { return (log10(value) - log10(lower)) / (log10(upper) - log10(lower)) }
      return (value - lower) / (upper - lower)
    }

    /// Whether `value` can be drawn on this axis (finite, and positive on a logarithmic axis).
    package func shows(_ value: Double) -> Bool { value.isFinite && (!logarithmic || value > 0) }
  }

  /// A linear tick with `decimals` decimals (a step of 0.25 is never rounded to 0.2 or 0.3:
  /// steps are 1, 2 or 5 times a power of ten, so their multiples need no more decimals than the step).
  private static func tickLabel(_ value: Double, decimals: Int) -> String {
    if value != 0 && (abs(value) >= 1e6 || decimals > 4) { return _snprintf("%g", value) }
    let text = _snprintf("%.\(decimals)f", value)
    return text.hasPrefix("-") && Double(text) == 0 ? String(text.dropFirst()) : text
  }

  /// A tick of a logarithmic axis: `0.02`, `300`, or `2e-7` outside [1e-3, 1e5].
  private static func logLabel(_ value: Double) -> String {
    let exponent = Int(floor(log10(value) + 1e-9))
    if exponent < -3 || exponent > 5 {
      let mantissa = Int((value / pow(10, Double(exponent))).rounded())
      return "\(mantissa)e\(exponent)"
    }
    return _snprintf("%.\(max(0, -exponent))f", value)
  }
}
