import DAM
import Dispatch

/// What one engine of a comparison is: a row of the report.
struct EngineLabel: Hashable, Sendable {
  /// The divergence, as `dam retrieve` names it (or a description for baselines).
  var divergence: String
  /// The geometry, as `dam retrieve` names it.
  var geometry: String
  /// The separation map's report name (`softmax`, `sparsemax`, `1.5-entmax`, ...).
  var separation: String
  /// The inverse temperature.
  var beta: Double

  /// Divergence and geometry: the engine without its separation map and temperature.
  var method: String { "\(divergence) / \(geometry)" }
}

/// One engine of a comparison, built and ready to retrieve (concurrently: engines are values).
struct ComparedEngine<State: Sendable>: Sendable {
  var label: EngineLabel
  /// Retrieves from a query, recording the trajectory when asked.
  var retrieve: @Sendable (_ query: State, _ recordingTrajectory: Bool) throws -> RetrievalResult<State>
  /// Retrieves from every query together (``RetrievalEngine/retrieve(batch:recordingTrajectory:)``),
  /// for engines that take batches.
  var retrieveBatch:
    (@Sendable (_ queries: [State], _ recordingTrajectory: Bool) throws -> [RetrievalResult<State>])? =
      nil
}

/// A retrieval that failed for a reason that belongs in the report (a Sinkhorn solve that did not
/// converge, a stacked baseline whose final state is not a Gaussian), not a bug or bad input.
struct RetrievalFailure: Error {
  var reason: String
}

/// One family's side-by-side comparison: the stored patterns, seeded queries with the index of the
/// pattern each was made from, the engines, and one reference divergence that judges every
/// engine's final state the same way.
///
/// A new family (grid histograms, say) is one more function that returns a `ComparisonCase` of its
/// state type; the runner, the report and the command do not change.
struct ComparisonCase<State: Sendable>: Sendable {
  /// `vectors`, `point clouds`, `gaussians`.
  var family: String
  /// One sentence: what is stored and how the queries were made.
  var workload: String
  /// The name of the reference divergence (success = the final state is nearest to the target in it).
  var reference: String
  var queries: [State]
  var targets: [Int]
  var engines: [ComparedEngine<State>]
  /// The reference divergence from a state to every stored pattern.
  var distances: @Sendable (State) throws -> [Double]
  /// A picture of the first query's retrieval by each engine (the state, the target, trajectories).
  var picture:
    @Sendable (_ query: State, _ target: Int, _ runs: [(label: EngineLabel, result: RetrievalResult<State>)])
      throws -> String
}

/// A row of the comparison report.
struct ComparisonRow: Encodable, Sendable {
  var family: String
  var divergence: String
  var geometry: String
  var separation: String
  var beta: Double
  var queries: Int
  var successes: Int
  var successRate: Double
  var lower: Double
  var upper: Double
  var meanSteps: Double
  var stepLimitHits: Int
  var millisecondsPerRetrieval: Double
  var meanFinalDivergence: Double
  var meanSupport: Double
  /// Exact divergence evaluations per retrieval (N per state without pruning).
  var meanEvaluations: Double
  var failures: Int

  enum CodingKeys: String, CodingKey {
    case family, divergence, geometry, separation, beta, queries, successes, lower, upper, failures
    case successRate = "success_rate"
    case meanSteps = "mean_steps"
    case stepLimitHits = "step_limit_hits"
    case millisecondsPerRetrieval = "ms_per_retrieval"
    case meanFinalDivergence = "mean_final_divergence"
    case meanSupport = "mean_support"
    case meanEvaluations = "mean_evaluations"
  }

  var label: EngineLabel {
    EngineLabel(divergence: divergence, geometry: geometry, separation: separation, beta: beta)
  }
}

/// Everything a family's comparison produced, independent of its state type.
struct FamilyOutcome: Sendable {
  var family: String
  var workload: String
  var reference: String
  var rows: [ComparisonRow]
  /// The energy after each step of the first query, per engine.
  var energies: [(label: EngineLabel, values: [Double])]
  /// The trajectory figure (SVG) of the first query.
  var picture: String
  /// Failure reasons, one line per distinct reason with its count.
  var failureNotes: [String]
}

/// A comparison with its state type erased, so that families of different states run in one list.
struct AnyComparison: Sendable {
  var family: String
  var engineCount: Int
  var queryCount: Int
  var run: @Sendable (_ progress: @Sendable (String) -> Void) throws -> FamilyOutcome
}

extension ComparisonCase {
  /// Erases the state type.
  func erased() -> AnyComparison {
    AnyComparison(family: family, engineCount: engines.count, queryCount: queries.count) { progress in
      try Comparison.run(self, progress: progress)
    }
  }
}

/// Runs comparisons: the same queries through every engine, judged by one reference.
enum Comparison {
  /// The command-line options of the separation maps' parameters, by the library's argument names.
  static let separationOptions = ["k": "--k", "alpha": "--alpha", "pairwise": "--pairwise"]

  struct Outcome: Sendable {
    var success = false
    var steps = 0
    var hitLimit = false
    var seconds = 0.0
    var finalDivergence = 0.0
    var support = 0
    var evaluations = 0
    var failure: String?
  }

  static func run<State>(_ comparison: ComparisonCase<State>, progress: @Sendable (String) -> Void) throws
    -> FamilyOutcome
  {
    var rows: [ComparisonRow] = []
    var energies: [(label: EngineLabel, values: [Double])] = []
    var firstRuns: [(label: EngineLabel, result: RetrievalResult<State>)] = []
    var failureCounts: [String: Int] = [:]
    let count = comparison.queries.count
    for (number, engine) in comparison.engines.enumerated() {
      let label = engine.label
      progress(
        "\(comparison.family): engine \(number + 1) of \(comparison.engines.count): \(label.method), \(label.separation), beta \(Table.format(label.beta, digits: 4))"
      )
      let outcomes = ParallelResults<Outcome>(count: count, initial: Outcome())
      let first = ParallelResults<RetrievalResult<State>?>(count: 1, initial: nil)
      // Engines that take batches retrieve every query together (the time per retrieval is the
      // batch's divided by the queries). If any query fails, the queries run one by one instead,
      // so that each failure is reported with its query.
      var batched: [RetrievalResult<State>]? = nil
      var batchSeconds = 0.0
      if let retrieveBatch = engine.retrieveBatch {
        let start = Terminal.now()
        batched = try? retrieveBatch(comparison.queries, true)
        batchSeconds = (Terminal.now() - start) / Double(max(count, 1))
      }
      let batchResults = batched
      let secondsInBatch = batchSeconds
      DispatchQueue.concurrentPerform(iterations: count) { q in
        do {
          let result: RetrievalResult<State>
          let seconds: Double
          if let batchResults {
            result = batchResults[q]
            seconds = secondsInBatch
          } else {
            let start = Terminal.now()
            result = try engine.retrieve(comparison.queries[q], q == 0)
            seconds = Terminal.now() - start
          }
          let distances = try comparison.distances(result.state)
          let nearest = distances.indices.min { distances[$0] < distances[$1] } ?? -1
          let target = comparison.targets[q]
          outcomes.set(
            q,
            Outcome(
              success: nearest == target, steps: result.steps, hitLimit: result.stopReason == .stepLimit,
              seconds: seconds, finalDivergence: distances[target], support: result.support.count,
              evaluations: result.evaluationCount))
          if q == 0 { first.set(0, result) }
        } catch let error as RetrievalFailure {
          outcomes.set(q, Outcome(failure: error.reason))
        } catch let error as DAMError where error.kind == .numericalFailure {
          outcomes.set(q, Outcome(failure: error.description))
        } catch let error as DAMError where Self.separationOptions[error.argument] != nil {
          // A separation map's parameter out of range for this memory (k above the number of
          // patterns): the user's option, named as such.
          outcomes.fail(
            at: q,
            "\(error.message) (\(comparison.family), \(label.method), \(label.separation), beta \(label.beta), query \(q))",
            option: Self.separationOptions[error.argument])
        } catch {
          outcomes.fail(
            at: q,
            "\(comparison.family), \(label.method), \(label.separation), beta \(label.beta), query \(q): \(error)"
          )
        }
      }
      if let failure = outcomes.failure { throw CLIError(outcomes.failureOption ?? "compare", failure) }
      let values = outcomes.values
      for reason in values.compactMap(\.failure) {
        failureCounts["\(label.method), \(label.separation), beta \(label.beta): \(reason)", default: 0] += 1
      }
      let completed = values.filter { $0.failure == nil }
      let successes = completed.filter(\.success).count
      let interval = try WilsonInterval(successes: successes, trials: count)
      let n = Double(max(completed.count, 1))
      func mean(_ value: (Outcome) -> Double) -> Double {
        completed.isEmpty ? .nan : completed.reduce(0) { $0 + value($1) } / n
      }
      rows.append(
        ComparisonRow(
          family: comparison.family, divergence: label.divergence, geometry: label.geometry,
          separation: label.separation, beta: label.beta, queries: count, successes: successes,
          successRate: interval.proportion, lower: interval.lower, upper: interval.upper,
          meanSteps: mean { Double($0.steps) }, stepLimitHits: completed.filter(\.hitLimit).count,
          millisecondsPerRetrieval: mean { 1000 * $0.seconds }, meanFinalDivergence: mean(\.finalDivergence),
          meanSupport: mean { Double($0.support) }, meanEvaluations: mean { Double($0.evaluations) },
          failures: count - completed.count))
      if let result = first.values[0] {
        energies.append((label, result.energies))
        firstRuns.append((label, result))
      }
    }
    let picture = try comparison.picture(comparison.queries[0], comparison.targets[0], firstRuns)
    return FamilyOutcome(
      family: comparison.family, workload: comparison.workload, reference: comparison.reference, rows: rows,
      energies: energies, picture: picture,
      failureNotes: failureCounts.sorted { $0.key < $1.key }.map { "\($0.value) x \($0.key)" })
  }
}
