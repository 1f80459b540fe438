import Foundation
import Testing

struct ExperimentCommandTests {
  @Test func listsEveryReproduction() throws {
    let run = try DamProcess.run(["experiment", "--list"])
    #expect(run.status == 0)
    for name in [
      "shk-gaussian-clouds", "shk-random-patterns", "shk-weighted-digits", "hopfield-basins",
      "hopfield-metastable-states", "bw-dam-synthetic", "bw-dam-one-step", "bw-dam-capacity",
      "bw-dam-ellipses", "grid-images",
    ] {
      #expect(run.stdout.contains(name), "\(name) is listed")
    }
  }

  @Test func unknownExperimentIsRefused() throws {
    let run = try DamProcess.run(["experiment", "no-such-thing"])
    #expect(run.status != 0)
    #expect(run.stderr.contains("unknown experiment"))
  }
}
