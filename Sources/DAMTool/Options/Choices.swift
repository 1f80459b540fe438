import ArgumentParser
import DAMExperiments

// The run-time choices of the experiments module, read from the command line by their raw values.
extension VectorDivergenceChoice: ExpressibleByArgument {}
extension VectorGeometryChoice: ExpressibleByArgument {}
extension SeparationChoice: ExpressibleByArgument {}
extension DivergenceChoice: ExpressibleByArgument {}
extension GeometryChoice: ExpressibleByArgument {}
extension BuiltInWorkload: ExpressibleByArgument {}
extension GridBackendChoice: ExpressibleByArgument {}
