// Runs the worked example of Docs/gradients.md at full size, from five seeds, and writes its
// report:
//
//     swift run -c release learn-patterns Docs/results/pattern-learning
//
// writes history.csv (loss, β and correct steps per seed and descent step), summary.md (one row
// per seed), loss.svg, accuracy.svg and patterns.svg (each seed's learned patterns and the
// targets) to the folder.

import DAM
import DAMExperiments
import Foundation
import PatternLearning

let arguments = CommandLine.arguments.dropFirst()
guard arguments.count == 1, let folder = arguments.first else {
  FileHandle.standardError.write("usage: learn-patterns <report folder>\n".data(using: .utf8)!)
  exit(64)
}
/// The settings of the report (Docs/gradients.md states them).
let (perClass, steps, learningRate, initialBeta, seeds) = (30, 200, 2.0, 1.0, [UInt64](1...5))

do {
  let started = ContinuousClock.now
  let load = CompareReport.loadAverage()
  let task = DigitsTask(perClass: perClass)
  let learner = try PatternLearner(separation: Softmax(), queries: task.queries, targets: task.targets)
  var csv = "seed,step,loss,beta,correct\n"
  var table = """
    | seed | loss at start | loss after \(steps) steps | correct at start | correct after | β learned |
    | ---: | ---: | ---: | ---: | ---: | ---: |

    """
  var lossSeries: [SVG.Series] = []
  var accuracySeries: [SVG.Series] = []
  var learned: [[[Double]]] = []
  for seed in seeds {
    let trained = try learner.train(
      patterns: task.initialPatterns(seed: seed), beta: initialBeta, steps: steps, learningRate: learningRate,
      learnsBeta: true)
    for record in trained.history {
      csv += "\(seed),\(record.step),\(record.loss),\(record.beta),\(record.correct)\n"
    }
    let (first, last) = (trained.history.first!, trained.history.last!)
    table +=
      "| \(seed) | \(String(format: "%.3f", first.loss)) | \(String(format: "%.3f", last.loss)) | \(first.correct) | \(last.correct) | \(String(format: "%.2f", trained.beta)) |\n"
    lossSeries.append(
      SVG.Series(label: "seed \(seed)", points: trained.history.map { (Double($0.step), $0.loss) }))
    accuracySeries.append(
      SVG.Series(
        label: "seed \(seed)",
        points: trained.history.map { (Double($0.step), Double($0.correct) / Double(task.queries.count)) }))
    learned.append(trained.patterns)
  }
  let loss = SVG.lineChart(
    title: "Learning a 10-pattern memory of \(task.queries.count) digits by gradient descent",
    xLabel: "descent step", yLabel: "loss: mean squared error of one retrieval step (log scale)",
    series: lossSeries, logY: true)
  let accuracy = SVG.lineChart(
    title: "Digits stepped nearer to their class mean than to any other",
    xLabel: "descent step", yLabel: "fraction of the \(task.queries.count) training digits",
    series: accuracySeries, yRange: 0...1)
  let patterns = SVG.imageGrid(
    title: "Learned patterns X1 to X10 of each seed; the targets (class means of 0 to 9)",
    images: (learned + [task.means]).map { row in row.map { $0.map { min(1, max(0, $0)) } } }, side: 8,
    rowLabels: seeds.map { "seed \($0)" } + ["targets"], columnLabels: (1...10).map { "X\($0)" })
  let seconds = (ContinuousClock.now - started) / .seconds(1)
  let summary = """
    # Learning a memory's patterns by gradient descent

    Command: `swift run -c release learn-patterns \(folder)` (seeds \(seeds.first!)-\(seeds.last!)), on \(Machine.description); \(String(format: "%.1f", seconds)) s in all\(load.map { ", load average \($0) when it started" } ?? "").

    The worked example of Docs/gradients.md: \(task.queries.count) digits (\(perClass) per class, intensities / 16), \
    each one's target its class's mean image; ten patterns started at training digits drawn at random \
    (the seed), learned with `β` (from \(initialBeta), descending in log β) by \(steps) steps of plain gradient \
    descent at rate \(learningRate) on the mean squared error of one retrieval step (squared Euclidean \
    divergence, softmax). *correct*: digits whose step lands nearer their own class mean than any other.

    \(table)
    Figures: `loss.svg`, `accuracy.svg`, `patterns.svg`; every step of every seed in `history.csv`.

    """
  try ReportFolder(path: folder).write([
    "history.csv": csv, "summary.md": summary, "loss.svg": loss, "accuracy.svg": accuracy,
    "patterns.svg": patterns,
  ])
  print(table, terminator: "")
} catch {
  FileHandle.standardError.write("learn-patterns: \(error)\n".data(using: .utf8)!)
  exit(1)
}
