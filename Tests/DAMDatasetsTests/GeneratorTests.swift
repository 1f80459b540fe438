import DAM
import DAMDatasets
import Foundation
import Testing

struct GridImageDataTests {
  /// Bilinear, pixel-centre aligned: a 2-pixel ramp read at the centres of 4 output pixels, whose
  /// outermost centres clamp to the border pixels; a constant image stays constant.
  @Test func upsamplingMatchesTheClosedForm() throws {
    let ramp = try GridImageData.upsample([0, 1, 0, 1], side: 2, to: 4)
    for row in 0..<4 { #expect(Array(ramp[(row * 4)..<(row * 4 + 4)]) == [0, 0.25, 0.75, 1]) }
    let constant = try GridImageData.upsample([Double](repeating: 0.3, count: 9), side: 3, to: 7)
    #expect(constant.allSatisfy { abs($0 - 0.3) < 1e-15 })
    #expect(throws: DAMError.self) { try GridImageData.upsample([1, 2, 3], side: 2, to: 4) }
  }

  @Test func digitsAreHistogramsOfMassOne() throws {
    let digits = Digits()
    let image = try GridImageData.digit(digits, 0, side: 16)
    #expect(image.shape == [16, 16])
    #expect(abs(image.masses.reduce(0, +) - 1) < 1e-12)
    do {
      _ = try GridImageData.digit(digits, digits.count, side: 16)
      Issue.record("an index past the end was accepted")
    } catch {
      #expect(error.argument == "index")
    }
    var generator = SeededGenerator(seed: 3)
    let chosen = GridImageData.digitIndices(digits, perClass: 2, generator: &generator)
    #expect(chosen.map { digits.labels[$0] } == (0..<10).flatMap { [$0, $0] })
  }

  /// A disc's coverage is its area to within the supersampling's resolution; shapes are inside
  /// the image.
  @Test func shapesCoverTheirArea() throws {
    let disc = GridImageData.Shape(kind: .disc, x: 32, y: 32, size: 10, thickness: 0, angle: 0)
    let covered = try GridImageData.render(disc, side: 64).reduce(0, +)
    #expect(abs(covered - Double.pi * 100) < 0.01 * Double.pi * 100)
    var generator = SeededGenerator(seed: 5)
    let shapes = try GridImageData.shapes(count: 9, side: 64, generator: &generator)
    #expect(shapes.count == 9)
    for shape in shapes {
      #expect(shape.x >= 0 && shape.x <= 64 && shape.y >= 0 && shape.y <= 64)
      #expect(try GridImageData.render(shape, side: 64).reduce(0, +) > 0)
    }
    #expect(throws: DAMError.self) { try GridImageData.shapes(count: 2, side: 0, generator: &generator) }
  }

  /// A mask at level 1/2 empties one half of the image exactly; noise at level 0 is the pattern;
  /// images only, levels in range.
  @Test func corruptionsDoWhatTheySay() throws {
    let pattern = try GridHistogram(shape: [8, 8], intensities: [Double](repeating: 1, count: 64))
    var generator = SeededGenerator(seed: 11)
    let (masked, redrawn) = try GridImageData.corrupt(pattern, .mask, level: 0.5, generator: &generator)
    #expect(!redrawn)
    #expect(masked.masses.filter { $0 == 0 }.count == 32)
    #expect(abs(masked.masses.reduce(0, +) - 1) < 1e-12)
    #expect(try GridImageData.corrupt(pattern, .noise, level: 0, generator: &generator).histogram == pattern)
    let line = try GridHistogram(shape: [8], intensities: [Double](repeating: 1, count: 8))
    do {
      _ = try GridImageData.corrupt(line, .noise, level: 0.1, generator: &generator)
      Issue.record("a 1-D histogram was accepted")
    } catch {
      #expect(error.argument == "pattern")
    }
    do {
      _ = try GridImageData.corrupt(pattern, .mask, level: 2, generator: &generator)
      Issue.record("a mask of twice the image was accepted")
    } catch {
      #expect(error.argument == "level")
    }
  }
}

struct GaussianCloudsModelTests {
  /// With many atoms each cloud's sample mean and covariance approach the model's: means on the
  /// circle of radius 3 and covariance 0.5 I, or the origin and eigenvalues in [0.15, 1.75].
  @Test(arguments: [GaussianCloudsModel.Layout.distinctMeans, .equalMeans])
  func cloudsFollowTheirGaussians(layout: GaussianCloudsModel.Layout) throws {
    var generator = SeededGenerator(seed: 2)
    let clouds = try GaussianCloudsModel(layout: layout, count: 4, atoms: 20_000).sample(using: &generator)
    #expect(clouds.count == 4)
    for (i, cloud) in clouds.enumerated() {
      let n = Double(cloud.count)
      let xs = (0..<cloud.count).map { cloud.points[$0, 0] }
      let ys = (0..<cloud.count).map { cloud.points[$0, 1] }
      let (mx, my) = (xs.reduce(0, +) / n, ys.reduce(0, +) / n)
      let sxx = zip(xs, xs).map { ($0 - mx) * ($1 - mx) }.reduce(0, +) / n
      let syy = zip(ys, ys).map { ($0 - my) * ($1 - my) }.reduce(0, +) / n
      let sxy = zip(xs, ys).map { ($0 - mx) * ($1 - my) }.reduce(0, +) / n
      switch layout {
      case .distinctMeans:
        let angle = 2 * Double.pi * Double(i) / 4
        #expect(abs(mx - 3 * cos(angle)) < 0.03 && abs(my - 3 * sin(angle)) < 0.03)
        #expect(abs(sxx - 0.5) < 0.03 && abs(syy - 0.5) < 0.03 && abs(sxy) < 0.03)
      case .equalMeans:
        #expect(abs(mx) < 0.05 && abs(my) < 0.05)
        let half = ((sxx - syy) * (sxx - syy) / 4 + sxy * sxy).squareRoot()
        let (low, high) = ((sxx + syy) / 2 - half, (sxx + syy) / 2 + half)
        #expect(low > 0.15 - 0.05 && high < 1.75 + 0.1)
      }
    }
    #expect(throws: DAMError.self) { try GaussianCloudsModel(layout: layout, count: 0) }
    #expect(throws: DAMError.self) { try GaussianCloudsModel(layout: layout, atoms: 0) }
  }
}
