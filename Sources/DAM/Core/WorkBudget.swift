#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// A bound on long computations, and a way to watch them: a wall-clock limit, a limit on the
/// iterations of the iterative solvers, and a progress callback.
///
/// Work run inside ``run(_:)`` checks the budget at its iteration boundaries: every retrieval
/// step of ``RetrievalEngine`` (before the step), and every iteration (every ``checkInterval``
/// iterations for small problems) of the entropic solvers (``Sinkhorn``, ``GridSinkhorn``, the
/// grid barycenter) and of the SparseMAP active set of ``SequentialKSubsets``, wherever they run: a
/// memory preparing its patterns, a divergence inside a retrieval, on the engine's threads too.
/// Newton steps are checked (and counted) one by one; long loops inside one iteration poll the
/// time limit and give up their rest once it has passed, the check after them then throwing: the
/// construction of a large Gibbs or grid kernel, a large grid's log-domain passes, the dense
/// soft-minimum of a large problem; the Bures-Wasserstein batch checks before each chunk.
/// When the time or the iterations run out, the check throws a ``DAMError`` of kind
/// ``DAMError/Kind/budgetExceeded`` naming `timeLimit` or `iterationLimit`, with what was
/// running and how far it got; the budget stays spent, so every later check throws too (a
/// solver that catches a failure to retry in another way stops at its next check). The
/// computation ends between two iterations: it returns no partial result, and nothing it was
/// building is left half-changed (a ``Memory`` being appended to keeps its old patterns).
///
/// A check reads a monotonic clock and, with an iteration limit, adds the iterations since the
/// last one under a lock; with no budget bound (outside ``run(_:)``) it is one read of a task-local
/// value per solve or retrieval.
///
/// The clock starts when the budget is made. A budget may be shared by several computations at
/// once, on any threads; their iterations add up.
public final class WorkBudget: Sendable {
  /// The wall-clock seconds the work may take from the budget's creation, or nil for no limit.
  public let timeLimit: Double?
  /// The solver iterations and retrieval steps the work may take in all, or nil for no limit.
  public let iterationLimit: Int?
  /// The least number of seconds between two progress reports.
  public let progressInterval: Double

  /// The most solver iterations between two checks, for problems below 2^14 entries; larger ones
  /// are checked every iteration.
  public static let checkInterval = 16

  /// The iterations between two checks of a solve whose iteration costs about `work` elementary
  /// operations (`n m` for a dense `n x m` problem): every iteration from `2^14` operations on,
  /// where a check (a clock read and an uncontended lock, well under a microsecond) is below 1% of
  /// an iteration and a large solve is stopped within one iteration of its limit; otherwise every
  /// ``checkInterval`` iterations.
  static func checkInterval(work: Int) -> Int { work >= 1 << 14 ? 1 : checkInterval }

  private let progress: (@Sendable (WorkProgress) -> Void)?
  private let start: Double
  private let deadline: Double
  /// The iterations counted so far, the time of the next progress report, and the error that
  /// ended the work (once spent, every check throws it).
  private let state: Lock<(iterations: Int, nextReport: Double, spent: DAMError?)>

  /// The budget of the work running on this thread, bound by ``run(_:)``.
  @TaskLocal static var current: WorkBudget?

  /// A budget whose clock starts now.
  ///
  /// - Parameters:
  ///   - timeLimit: seconds, finite and >= 0, or nil.
  ///   - iterationLimit: iterations, >= 0, or nil.
  ///   - progressInterval: the least seconds between two calls of `progress`; finite and > 0.
  ///   - progress: called at a check when at least `progressInterval` seconds have passed since
  ///     the last call (or since the start), with what is running. It may be called from any of
  ///     the work's threads.
  /// - Throws: ``DAMError`` naming `timeLimit`, `iterationLimit` or `progressInterval`.
  public init(
    timeLimit: Double? = nil, iterationLimit: Int? = nil, progressInterval: Double = 0.25,
    progress: (@Sendable (WorkProgress) -> Void)? = nil
  ) throws(DAMError) {
    if let timeLimit, !(timeLimit >= 0 && timeLimit.isFinite) {
      throw DAMError.invalid("timeLimit", "must be a finite number of seconds >= 0, got \(timeLimit)")
    }
    if let iterationLimit, iterationLimit < 0 {
      throw DAMError.invalid("iterationLimit", "must be >= 0, got \(iterationLimit)")
    }
    try _requirePositive(progressInterval, "progressInterval")
    self.timeLimit = timeLimit
    self.iterationLimit = iterationLimit
    self.progressInterval = progressInterval
    self.progress = progress
    let start = monotonicSeconds()
    self.start = start
    deadline = timeLimit.map { start + $0 } ?? .infinity
    state = Lock((0, start + progressInterval, nil))
  }

  /// Runs `body` under this budget: the library's solvers and engines called from it, on this
  /// thread or on the threads they start, check it at their iteration boundaries.
  public func run<T>(_ body: () throws -> T) rethrows -> T {
    try WorkBudget.$current.withValue(self, operation: body)
  }

  /// The seconds since the budget was made.
  public var elapsed: Double { monotonicSeconds() - start }

  /// The error that ended the work once the budget is spent (nil before). A caller whose own
  /// layers turned that error into another can still tell that the budget was the cause.
  public var exceeded: DAMError? { state.withLock { $0.spent } }

  /// Whether the time limit has passed: one clock read, for the inner loops of a long iteration,
  /// which give up their remaining work when it has (the check after the iteration then throws).
  func pastDeadline() -> Bool { deadline < .infinity && monotonicSeconds() > deadline }

  /// Counts `iterations` more and throws if the budget is spent; reports progress when it is due.
  /// `activity` says what is running and how far it got, as "a Sinkhorn solve (300 x 300 atoms),
  /// iteration 480 at the target epsilon, marginal error 3.1e-04"; it is made only when needed.
  func check(iterations: Int, _ activity: () -> String) throws(DAMError) {
    let now = monotonicSeconds()
    let (failure, report): (DAMError?, WorkProgress?) = state.withLock { state in
      if let spent = state.spent { return (spent, nil) }
      state.iterations += iterations
      if now > deadline, let timeLimit {
        state.spent = DAMError(
          .budgetExceeded, argument: "timeLimit",
          "the time limit of \(timeLimit) s ran out after \(rounded(now - start)) s, in \(activity())")
        return (state.spent, nil)
      }
      if let iterationLimit, state.iterations > iterationLimit {
        state.spent = DAMError(
          .budgetExceeded, argument: "iterationLimit",
          "the limit of \(iterationLimit) iterations ran out after \(rounded(now - start)) s, in \(activity())"
        )
        return (state.spent, nil)
      }
      guard progress != nil, now >= state.nextReport else { return (nil, nil) }
      state.nextReport = now + progressInterval
      return (nil, WorkProgress(activity: activity(), elapsed: now - start, iterations: state.iterations))
    }
    if let failure { throw failure }
    if let report, let progress { progress(report) }
  }
}

/// What a budgeted computation was doing at a progress report.
public struct WorkProgress: Sendable, Hashable {
  /// What is running and how far it got.
  public var activity: String
  /// Seconds since the budget was made.
  public var elapsed: Double
  /// Solver iterations and retrieval steps counted so far.
  public var iterations: Int

  /// A report (made by ``WorkBudget``'s checks; public for callers that format reports).
  public init(activity: String, elapsed: Double, iterations: Int) {
    self.activity = activity
    self.elapsed = elapsed
    self.iterations = iterations
  }
}

/// The budget bound to this thread (see ``WorkBudget/run(_:)``); one task-local read.
@inline(__always)
func currentBudget() -> WorkBudget? { WorkBudget.current }

/// `x` to three significant digits, for messages.
private func rounded(_ x: Double) -> String {
  guard x.isFinite, x > 0 else { return "\(x)" }
  var scale = 1.0
  while x * scale < 100 { scale *= 10 }
  return "\((x * scale).rounded() / scale)"
}

/// Seconds on a monotonic clock.
func monotonicSeconds() -> Double {
  var time = timespec()
  clock_gettime(CLOCK_MONOTONIC, &time)
  return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
}
