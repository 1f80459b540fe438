import DAM

/// What one engine of a comparison is: a row of the report.
package struct EngineLabel: Hashable, Sendable {
  /// The divergence, as `dam retrieve` names it (or a description for baselines).
  package var divergence: String
  /// The geometry, as `dam retrieve` names it.
  package var geometry: String
  /// The separation map's report name (`softmax`, `sparsemax`, `1.5-entmax`, ...).
  package var separation: String
  /// The inverse temperature.
  package var beta: Double
  /// For a Euclidean baseline that runs a vector engine on an encoding of the family's states,
  /// the encoding: `stacked-euclidean` (a cloud's atoms, or a Gaussian's (m, vec S), stacked into
  /// one vector) or `pixel-euclidean` (a histogram's pixel intensities); `nil` for the family's
  /// own engines. `divergence` is then the vector engine's divergence.
  package var baseline: String? = nil

  /// Divergence and geometry, or the baseline and its divergence: the engine without its
  /// separation map and temperature.
  package var method: String {
    baseline.map { "\($0) (\(divergence))" } ?? "\(divergence) / \(geometry)"
  }
}

/// One engine of a comparison, built and ready to retrieve (concurrently: engines are values).
package struct ComparedEngine<State: Sendable>: Sendable {
  package var label: EngineLabel
  /// Retrieves from a query, recording the trajectory when asked.
  package var retrieve:
    @Sendable (_ query: State, _ recordingTrajectory: Bool) throws -> RetrievalResult<State>
  /// Retrieves from every query together (``RetrievalEngine/retrieve(batch:recordingTrajectory:)``),
  /// for engines that take batches.
  package var retrieveBatch:
    (@Sendable (_ queries: [State], _ recordingTrajectory: Bool) throws -> [RetrievalResult<State>])? =
      nil
}

/// A retrieval that failed for a reason that belongs in the report (a Sinkhorn solve that did not
/// converge, a stacked baseline whose final state is not a Gaussian), not a bug or bad input.
package struct RetrievalFailure: Error {
  package var reason: String
}

/// One family's side-by-side comparison: the stored patterns, seeded queries with the index of the
/// pattern each was made from, the engines, and one reference divergence that judges every
/// engine's final state the same way.
///
/// A new family (grid histograms, say) is one more function that returns a `ComparisonCase` of its
/// state type; the runner, the report and the command do not change.
package struct ComparisonCase<State: Sendable>: Sendable {
  /// `vectors`, `point clouds`, `gaussians`.
  package var family: String
  /// One sentence: what is stored and how the queries were made.
  package var workload: String
  /// The name of the reference divergence (success = the final state is nearest to the target in it).
  package var reference: String
  package var queries: [State]
  package var targets: [Int]
  package var engines: [ComparedEngine<State>]
  /// The reference divergence from a state to every stored pattern.
  package var distances: @Sendable (State) throws -> [Double]
  /// A picture of the first query's retrieval by each engine (the state, the target, trajectories).
  package var picture:
    @Sendable (_ query: State, _ target: Int, _ runs: [(label: EngineLabel, result: RetrievalResult<State>)])
      throws -> String
}

/// A row of the comparison report.
package struct ComparisonRow: Codable, Sendable {
  package var family: String
  /// The baseline's encoding (``EngineLabel/baseline``); absent for the family's own engines.
  package var baseline: String?
  package var divergence: String
  package var geometry: String
  package var separation: String
  package var beta: Double
  package var queries: Int
  package var successes: Int
  package var successRate: Double
  package var lower: Double
  package var upper: Double
  package var meanSteps: Double
  package var stepLimitHits: Int
  package var millisecondsPerRetrieval: Double
  package var meanFinalDivergence: Double
  package var meanSupport: Double
  /// Exact divergence evaluations per retrieval (N per state without pruning).
  package var meanEvaluations: Double
  package var failures: Int

  package enum CodingKeys: String, CodingKey {
    case family, baseline, divergence, geometry, separation, beta, queries, successes, lower, upper, failures
    case successRate = "success_rate"
    case meanSteps = "mean_steps"
    case stepLimitHits = "step_limit_hits"
    case millisecondsPerRetrieval = "ms_per_retrieval"
    case meanFinalDivergence = "mean_final_divergence"
    case meanSupport = "mean_support"
    case meanEvaluations = "mean_evaluations"
  }

  package var label: EngineLabel {
    EngineLabel(
      divergence: divergence, geometry: geometry, separation: separation, beta: beta, baseline: baseline)
  }
}

/// Everything a family's comparison produced, independent of its state type.
package struct FamilyOutcome: Sendable {
  package var family: String
  package var workload: String
  package var reference: String
  package var rows: [ComparisonRow]
  /// The energy after each step of the first query, per engine.
  package var energies: [(label: EngineLabel, values: [Double])]
  /// The trajectory figure (SVG) of the first query.
  package var picture: String
  /// Failure reasons, one line per distinct reason with its count.
  package var failureNotes: [String]
}

/// A comparison with its state type erased, so that families of different states run in one list.
package struct AnyComparison: Sendable {
  package var family: String
  package var engineCount: Int
  package var queryCount: Int
  package var run: @Sendable (_ progress: @Sendable (String) -> Void) throws -> FamilyOutcome
}

extension ComparisonCase {
  /// Erases the state type.
  package func erased() -> AnyComparison {
    AnyComparison(family: family, engineCount: engines.count, queryCount: queries.count) { progress in
      try Comparison.run(self, progress: progress)
    }
  }
}

/// Runs comparisons: the same queries through every engine, judged by one reference.
package enum Comparison {
  /// The command-line options of the separation maps' parameters, by the library's argument names.
  package static let separationOptions = ["k": "--k", "alpha": "--alpha", "pairwise": "--pairwise"]

  package struct Outcome: Sendable {
    package var success = false
    package var steps = 0
    package var hitLimit = false
    package var seconds = 0.0
    package var finalDivergence = 0.0
    package var support = 0
    package var evaluations = 0
    package var failure: String?
  }

  package static func run<State>(_ comparison: ComparisonCase<State>, progress: @Sendable (String) -> Void)
    throws
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
      forEachChunk(count, workers: coreCount) { q in
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
          family: comparison.family, baseline: label.baseline, divergence: label.divergence,
          geometry: label.geometry,
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
