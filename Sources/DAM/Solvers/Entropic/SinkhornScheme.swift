/// One way of carrying out Sinkhorn's iterations on one problem: the representation of the dual
/// potentials and the kernel operator that updates them. The loop (``SinkhornLoop``) owns
/// everything else: annealing, relaxation, the stopping rule, the early stop, Newton's method and
/// warm-start retries, so that every support (clouds, grids) and every domain (log, scaling)
/// converges by the same rules.
///
/// An iteration at the target ε is ``measure(omega:)`` then ``advance(omega:)``. For a cross
/// problem `OT_ε(a, b)` with potentials `(f, g)`: `measure` replaces `g` by
/// `g + ω (g̃ - g)`, `g̃` the soft-minimum of `f`, then computes `f̃` from the new `g` and returns
/// the L1 marginal error and the mass of the coupling of `(f, g)` (the column error follows from
/// `g̃ - g`, the row error from `f - f̃`); `advance` sets `f ← f + ω (f̃ - f)`. A symmetric problem
/// `OT_ε(a, a)` has one potential `p`: `measure` computes `p̃` and the error, `advance` averages
/// `p ← (p + p̃)/2` (its ω is always 1).
protocol SinkhornScheme {
  /// Atoms (or cells) on the two sides.
  var rows: Int { get }
  var columns: Int { get }
  /// Moves to `epsilon`: the next annealing stage (`exact` false), or the target ε after the
  /// last stage (`exact` true). Potentials are kept.
  mutating func move(to epsilon: Double, exact: Bool)
  /// One plain iteration at the current ε, both potentials replaced by their updates.
  mutating func annealingIteration() throws(SchemeError)
  /// The measured half of an iteration at the target ε (see the type's summary).
  mutating func measure(omega: Double) throws(SchemeError) -> (error: Double, mass: Double)
  /// The rest of the iteration: the row potential relaxed towards the update `measure` computed.
  mutating func advance(omega: Double)
  /// The potentials `(f, g)` now (`f == g` for a symmetric problem).
  func potentials() -> (f: [Double], g: [Double])
  /// Replaces the potentials (after a Newton polish).
  mutating func reset(f: [Double], g: [Double])
  /// Whether an iteration is cheap (products on a stored kernel rather than `n m` exponentials):
  /// Newton's method then has to save more iterations to pay.
  static var cheapIterations: Bool { get }
}

/// Why a scheme could not go on.
enum SchemeError: Error {
  /// A product of the scaling domain under- or overflowed even after absorbing the scalings: the
  /// solve is redone in the log domain, which cannot.
  case underflow
  /// A failure to report (a non-finite potential).
  case failure(DAMError)
}
