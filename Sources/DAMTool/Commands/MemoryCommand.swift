import ArgumentParser
import DAM
import DAMExperiments
import Foundation
import MemoryFiles
import NumPyFiles

struct MemoryCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "memory",
    abstract: "Create, extend, inspect and verify memory files.",
    discussion: """
      A memory file is a .npz that NumPy can open: a 'manifest' member (a uint8 array of UTF-8 \
      JSON: format 'dam-memory', version, kind, count, divergence, epsilon, for sinkhorn the \
      parameters the prepared data depend on (cost, tolerance, maxIterations, grid spacing), and \
      the dtype, shape and CRC-32 of each data array) and the data arrays of its kind: vectors 'patterns' (N, D); \
      point clouds 'points' (total, d), 'weights' (total), 'offsets' (N + 1); Gaussians 'means' \
      (N, d) with 'covariances' (N, d, d) or 'variances' (N, d); histograms 'histograms' \
      (N, H[, W[, D]]) and 'spacing'.

      Every write goes to a temporary file in the same directory, is synced to disk and renamed \
      into place: an interrupted or killed write leaves the previous file whole. Loading checks \
      the ZIP checksums, the manifest, every array's dtype, shape and CRC-32, and every pattern; \
      `dam retrieve --memory FILE` accepts a memory file and takes its divergence and epsilon as \
      defaults.
      """,
    subcommands: [Create.self, Append.self, Info.self, Verify.self])

  struct Summary: Encodable {
    var path: String
    var kind: String
    var count: Int
    var divergence: String
    var epsilon: Double?
    var parameters: MemoryFileManifest.Parameters?
    var version: Int
    var bytes: Int?
    var arrays: [MemoryFileManifest.ArrayRecord]

    init(_ path: String, _ contents: MemoryFileContents) {
      self.path = path
      kind = contents.kind.rawValue
      count = contents.count
      divergence = contents.manifest.divergence
      epsilon = contents.manifest.epsilon
      parameters = contents.manifest.parameters
      version = contents.manifest.version
      bytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
      arrays = contents.manifest.arrays
    }

    func printText() {
      print(
        "\(path): \(count) \(kind), divergence \(divergence)" + (epsilon.map { " (epsilon \($0))" } ?? ""))
      if let p = parameters {
        print(
          "prepared with cost \(p.cost), tolerance \(p.tolerance), max iterations \(p.maxIterations)"
            + (p.spacing.map { ", grid spacing \($0)" } ?? ""))
      }
      print("format dam-memory version \(version)" + (bytes.map { ", \($0) bytes" } ?? ""))
      for a in arrays { print("  \(a.name): \(a.dtype) \(a.shape), crc32 \(String(a.crc32, radix: 16))") }
    }
  }

  struct Create: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Create a memory file from patterns.",
      discussion: """
        --patterns is a .npy of vectors (N, D), or a .npz of point clouds (the layouts of \
        `dam retrieve`), Gaussians, histograms ('histograms' (N, H[, W[, D]]) of masses summing to \
        1, optional 'spacing'), or another memory file. The divergence defaults to \
        squared-euclidean for vectors, sinkhorn for clouds and histograms (then --epsilon is \
        required) and bures-wasserstein for Gaussians. An existing file is replaced only with \
        --force.
        """)

    @Argument(help: ArgumentHelp("The memory file to write (.npz).", valueName: "memory.npz"))
    var file: String

    @Option(help: ArgumentHelp("The patterns to store.", valueName: "path"))
    var patterns: String

    @Option(
      help:
        "squared-euclidean or dot-product (vectors), sinkhorn (clouds, histograms), bures-wasserstein (Gaussians)."
    )
    var divergence: String?

    @Option(parsing: .unconditional, help: "The entropic regularisation eps > 0 of sinkhorn.")
    var epsilon: Double?

    @Flag(help: "Replace an existing file.")
    var force = false

    @Flag(help: "Print a summary as JSON.")
    var json = false

    func validate() throws {
      guard file.lowercased().hasSuffix(".npz") else {
        throw CLIError(file, "must end in .npz")
      }
      try OutputPath.check(file, option: file, inputs: [("--patterns", patterns)])
      if !force, FileManager.default.fileExists(atPath: file) {
        throw CLIError(
          file, "exists; use --force to replace it or `dam memory append` to extend it")
      }
      if let epsilon, !(epsilon.isFinite && epsilon > 0) {
        throw CLIError("--epsilon", "must be a finite number > 0, got \(epsilon)")
      }
    }

    func run() throws {
      let stored = try MemoryInputs.patterns(patterns, option: "--patterns")
      try MemoryInputs.requireFileFits(stored, option: "--patterns")
      let memoryFile: MemoryFile
      do throws(MemoryFileError) {
        memoryFile = try MemoryFile(patterns: stored, divergence: divergence, epsilon: epsilon)
      } catch {
        throw CLIError("--patterns", error.message)
      }
      do throws(MemoryFileError) {
        try memoryFile.write(to: file, overwrite: force)
      } catch {
        if error == .fileExists(file) {  // created by another writer since validate()
          throw CLIError(
            file, "exists; use --force to replace it or `dam memory append` to extend it")
        }
        throw CLIError(file, error.message)
      }
      let summary = Summary(file, try attributing(file) { try memoryFile.contents() })
      if json { try JSONOutput.print(summary) } else { summary.printText() }
    }
  }

  struct Append: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Append patterns to a memory file, all or nothing.",
      discussion: """
        The file is verified, the new patterns (same layouts as `create`) are checked against the \
        stored ones (kind, dimension, covariance form, grid), and the whole file is rewritten \
        atomically: a failure or a kill at any moment leaves the previous file intact.
        """)

    @Argument(help: ArgumentHelp("The memory file to extend.", valueName: "memory.npz"))
    var file: String

    @Option(help: ArgumentHelp("The patterns to append.", valueName: "path"))
    var patterns: String

    @Flag(help: "Print a summary as JSON.")
    var json = false

    func validate() throws { try OutputPath.check(file, option: file) }

    func run() throws {
      let stored = try MemoryInputs.patterns(patterns, option: "--patterns")
      if let size = (try? FileManager.default.attributesOfItem(atPath: file))?[.size] as? Int {
        try MemoryInputs.requireFileFits(stored, existing: (file, size), option: "--patterns")
      }
      let result: MemoryFile
      do throws(MemoryFileError) {
        result = try MemoryFile.append(stored, to: file)
      } catch {
        if error.message.hasPrefix("new patterns: ") {
          throw CLIError("--patterns", "\(patterns): " + error.message.dropFirst("new patterns: ".count))
        }
        throw CLIError(file, error.message)
      }
      let summary = Summary(file, try attributing(file) { try result.contents() })
      if json { try JSONOutput.print(summary) } else { summary.printText() }
    }
  }

  /// The contents of the memory file at `path`, read and checked completely (checksums, shapes,
  /// every pattern), a failure attributed to the `memory.npz` argument.
  static func verified(_ path: String) throws(CLIError) -> MemoryFileContents {
    let contents: MemoryFileContents
    do throws(MemoryFileError) {
      contents = try MemoryFile.readLimited(path)
    } catch {
      throw CLIError(path, error.message)
    }
    do throws(MemoryFileError) {
      _ = try MemoryFile(contents: contents)
    } catch {
      throw CLIError(path, "\(error.message)")
    }
    return contents
  }

  struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Show what a memory file holds (after verifying it).")

    @Argument(help: ArgumentHelp("The memory file.", valueName: "memory.npz"))
    var file: String

    @Flag(help: "Print as JSON.")
    var json = false

    func run() throws {
      let contents = try MemoryCommand.verified(file)
      let summary = Summary(file, contents)
      if json { try JSONOutput.print(summary) } else { summary.printText() }
    }
  }

  struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Check a memory file completely; exit non-zero with the reason if anything is wrong.",
      discussion: """
        Checks the ZIP structure and checksums, the manifest, each array's dtype, shape and \
        CRC-32, the kind's shape rules and every pattern (finite values, weights summing to 1, \
        positive definite covariances). With --starts-with OTHER, also checks that the file's \
        first patterns are exactly OTHER's (bit for bit), as after appends. Stale temporary files \
        left by killed writes are listed on standard error.
        """)

    @Argument(help: ArgumentHelp("The memory file.", valueName: "memory.npz"))
    var file: String

    @Option(help: ArgumentHelp("A memory file whose patterns must begin this one.", valueName: "path"))
    var startsWith: String?

    @Flag(help: "Print the summary as JSON.")
    var json = false

    func run() throws {
      let contents = try MemoryCommand.verified(file)
      if let startsWith {
        let prefix: MemoryFileContents
        do throws(MemoryFileError) {
          prefix = try MemoryFile.readLimited(startsWith)
        } catch {
          throw CLIError("--starts-with", error.message)
        }
        try Self.check(contents, startsWith: prefix, file: file, other: startsWith)
      }
      let stale = Self.staleTemporaryFiles(of: file)
      if !stale.isEmpty {
        Terminal.note(
          "note: \(stale.count) stale temporary file(s) from interrupted writes beside \(file) (safe to delete): "
            + stale.joined(separator: ", "))
      }
      let summary = Summary(file, contents)
      if json {
        try JSONOutput.print(summary)
      } else {
        print("ok: ", terminator: "")
        summary.printText()
      }
    }

    static func check(
      _ contents: MemoryFileContents, startsWith prefix: MemoryFileContents, file: String, other: String
    )
      throws(CLIError)
    {
      guard prefix.kind == contents.kind else {
        throw CLIError(
          "--starts-with", "\(other) holds \(prefix.kind.rawValue), \(file) \(contents.kind.rawValue)")
      }
      guard prefix.count <= contents.count else {
        throw CLIError(
          file, "holds \(contents.count) patterns, fewer than the \(prefix.count) of \(other)"
        )
      }
      for record in prefix.manifest.arrays {
        guard let mine = contents.arrays[record.name], let theirs = prefix.arrays[record.name] else {
          throw CLIError(file, "has no array '\(record.name)' like \(other)")
        }
        let same: Bool
        if record.name == "spacing" {
          same = mine.doubles() == theirs.doubles()
        } else if record.name == "offsets" {
          let (a, b) = ((try? mine.integers()) ?? [], (try? theirs.integers()) ?? [])
          same = a.count >= b.count && Array(a.prefix(b.count)) == b
        } else {
          let (a, b) = (mine.doubles(), theirs.doubles())
          same =
            Array(mine.shape.dropFirst()) == Array(theirs.shape.dropFirst()) && a.count >= b.count
            && zip(a, b).allSatisfy { $0.bitPattern == $1.bitPattern }
        }
        guard same else {
          throw CLIError(
            file, "array '\(record.name)' does not begin with the patterns of \(other)")
        }
      }
    }

    static func staleTemporaryFiles(of path: String) -> [String] {
      let url = URL(fileURLWithPath: path)
      let folder = url.deletingLastPathComponent().path
      let prefix = "." + url.lastPathComponent.prefix(120) + ".tmp-"
      let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
      return names.filter { $0.hasPrefix(prefix) }.sorted()
    }
  }
}
