/// Where the iterations of one solve ended.
struct SinkhornRun {
  var f: [Double]
  var g: [Double]
  /// Iterations, annealing included, of every attempt (a warm start and its cold retry).
  var iterations: Int
  var newtonSteps: Int
  var error: Double
  var mass: Double
  var converged: Bool
  /// The early stop's record of the last attempt.
  var stagnation: Stagnation
  /// Whether a scaling-domain scheme gave up (``SchemeError/underflow``); the other fields then
  /// count the work done so far.
  var underflowed: Bool
}

extension SinkhornRun {
  /// The solution of a cross problem `OT_ε(a, b)`, or the error of one that did not converge
  /// (unless unconverged results are allowed); `what` names the solver in messages.
  func transport<Backend>(_ a: [Double], _ b: [Double], _ options: EntropicOptions<Backend>, what: String)
    throws(DAMError)
    -> EntropicTransport
  {
    guard converged || options.allowsUnconverged else {
      throw notConverged(
        what, tolerance: options.tolerance, maxIterations: options.maxIterations, epsilon: options.epsilon,
        error: error, advice: true, stagnation: stagnation)
    }
    try requireFinitePotential(f, options.epsilon, what)
    try requireFinitePotential(g, options.epsilon, what)
    return EntropicTransport(
      epsilon: options.epsilon, value: dualValue(epsilon: options.epsilon, mass: mass, a, f, b, g), f: f,
      g: g,
      iterations: iterations, newtonSteps: newtonSteps, marginalError: error, converged: converged)
  }

  /// The solution of a symmetric problem `OT_ε(a, a)` ("the symmetric \(what) problem" in
  /// messages); see ``transport(_:_:_:what:)``.
  func selfTransport<Backend>(_ a: [Double], _ options: EntropicOptions<Backend>, what: String)
    throws(DAMError)
    -> SelfTransport
  {
    guard converged || options.allowsUnconverged else {
      throw notConverged(
        "the symmetric \(what) problem", tolerance: options.tolerance, maxIterations: options.maxIterations,
        epsilon: options.epsilon,
        error: error, advice: false, stagnation: stagnation)
    }
    try requireFinitePotential(f, options.epsilon, what)
    return SelfTransport(
      epsilon: options.epsilon, value: selfDualValue(epsilon: options.epsilon, mass: mass, a, f),
      potential: f,
      iterations: iterations, marginalError: error, converged: converged)
  }

  /// This run's counts added to `earlier`'s (the work of an attempt this one replaced).
  func adding(_ earlier: SinkhornRun) -> SinkhornRun {
    var total = self
    total.iterations += earlier.iterations
    total.newtonSteps += earlier.newtonSteps
    return total
  }
}
