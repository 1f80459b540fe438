import DAMTestSupport
import Foundation
import MemoryFiles
import NumPyFiles
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// Messages collected from several threads.
final class Collected: @unchecked Sendable {
  private let lock = NSLock()
  private var items: [String] = []

  func add(_ item: String) { lock.withLock { items.append(item) } }
  var all: [String] { lock.withLock { items } }
}

/// Runs `body(0 ..< count)` on `count` threads of their own, started together, and waits for all.
func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
  let group = DispatchGroup()
  let start = DispatchSemaphore(value: 0)
  for index in 0..<count {
    group.enter()
    let thread = Thread {
      start.wait()
      body(index)
      group.leave()
    }
    thread.start()
  }
  for _ in 0..<count { start.signal() }
  group.wait()
}

/// Concurrent writers, atomic create-if-absent, refused targets and stale temporary files.
@Suite struct MemoryFileWriterTests {
  /// 8 threads append to one file at once, 20 times: every append lands once.
  @Test func concurrentAppendsFromThreadsAllLand() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let path = scratch.path("m.npz")
    try MemoryFile(patterns: .vectors([[-1, -1, -1]])).write(to: path)
    let (rounds, writers) = (20, 8)
    let failures = Collected()
    for round in 0..<rounds {
      onThreads(writers) { i in
        do {
          try MemoryFile.append(.vectors([[Double(round), Double(i), 0.5]]), to: path)
        } catch {
          failures.add("round \(round), writer \(i): \(error)")
        }
      }
    }
    #expect(failures.all.isEmpty, "\(failures.all)")
    let file = try MemoryFile.read(contentsOf: path)
    guard case .vectors(let stored) = file.patterns else {
      Issue.record("not vectors")
      return
    }
    #expect(stored.count == 1 + rounds * writers)
    for round in 0..<rounds {
      for i in 0..<writers {
        let count = stored.filter { $0 == [Double(round), Double(i), 0.5] }.count
        #expect(count == 1, "round \(round), writer \(i): found \(count) times")
      }
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.folder) == ["m.npz"])
  }

  /// 8 threads create one file without overwriting, 20 times: exactly one succeeds, the others
  /// are told the file exists, and the file is the winner's.
  @Test func concurrentCreatesFromThreadsHaveOneWinner() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let writers = 8
    for round in 0..<20 {
      let path = scratch.path("m\(round).npz")
      let winners = Collected()
      let losers = Collected()
      onThreads(writers) { i in
        do {
          try MemoryFile(patterns: .vectors([[Double(round), Double(i)]])).write(to: path, overwrite: false)
          winners.add("\(i)")
        } catch {
          losers.add((error as? MemoryFileError) == .fileExists(path) ? "exists" : "\(error)")
        }
      }
      #expect(winners.all.count == 1, "round \(round): winners \(winners.all)")
      #expect(losers.all == Array(repeating: "exists", count: writers - 1), "round \(round): \(losers.all)")
      let winner = try #require(Double(winners.all.first ?? ""))
      let file = try MemoryFile.read(contentsOf: path)
      #expect(flatValues(file.patterns) == flatValues(.vectors([[Double(round), winner]])))
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.folder).count == 20)
  }

  @Test func createWithoutOverwriteLeavesAnExistingFileAlone() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let path = scratch.path("m.npz")
    try MemoryFile(patterns: Samples.vectors).write(to: path, overwrite: false)
    let before = FileState(path)
    #expect(throws: MemoryFileError.fileExists(path)) {
      try MemoryFile(patterns: .vectors([[1, 2]])).write(to: path, overwrite: false)
    }
    #expect(FileState(path) == before)
    #expect(MemoryFileError.fileExists(path).message.hasPrefix(path))
    // With overwrite (the default) it is replaced.
    try MemoryFile(patterns: .vectors([[1, 2]])).write(to: path)
    #expect(try MemoryFile.read(contentsOf: path).count == 1)
  }

  /// A rename would replace a read-only file, a device node or a FIFO without a word: refused.
  @Test func readOnlyAndNonRegularTargetsAreRefused() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let path = scratch.path("m.npz")
    try MemoryFile(patterns: Samples.vectors).write(to: path)
    chmod(path, 0o444)
    let before = FileState(path)
    let replace = #expect(throws: MemoryFileError.self) {
      try MemoryFile(patterns: .vectors([[1, 2]])).write(to: path)
    }
    #expect(
      replace?.message.contains("\(path): is read-only (mode 444)") == true, "\(String(describing: replace))")
    let append = #expect(throws: MemoryFileError.self) {
      try MemoryFile.append(Samples.vectors, to: path)
    }
    #expect(append?.message.contains("read-only") == true)
    #expect(FileState(path) == before)

    let fifo = scratch.path("fifo.npz")
    #expect(mkfifo(fifo, 0o644) == 0)
    let toFIFO = #expect(throws: MemoryFileError.self) {
      try MemoryFile(patterns: Samples.vectors).write(to: fifo)
    }
    #expect(toFIFO?.message == "\(fifo): is not a regular file (a FIFO)")
    #expect((FileState(fifo)?.mode ?? 0) & S_IFMT == S_IFIFO)

    let folder = scratch.path("folder.npz")
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
    let toFolder = #expect(throws: MemoryFileError.self) {
      try MemoryFile(patterns: Samples.vectors).write(to: folder)
    }
    #expect(toFolder?.message == "\(folder): is a directory")
    let missing = #expect(throws: MemoryFileError.self) {
      try MemoryFile(patterns: Samples.vectors).write(to: scratch.path("nowhere/m.npz"))
    }
    #expect(missing?.message.contains("does not exist") == true)
    #expect(
      try FileManager.default.contentsOfDirectory(atPath: scratch.folder).sorted() == [
        "fifo.npz", "folder.npz", "m.npz",
      ])
  }

  /// Temporary files of killed writers (their process is gone) are removed by the next successful
  /// write; those of live processes are kept; a lock file left by a killed writer is taken over.
  @Test func theNextWriteRemovesStaleTemporaryFiles() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let path = scratch.path("m.npz")
    try MemoryFile(patterns: Samples.vectors).write(to: path)
    // No process has a number above the kernel's largest (2^22), so these writers are gone.
    let stale = [".m.npz.tmp-99999999-1a2b", ".m.npz.tmp-99999998-ff"]
    let live = [".m.npz.tmp-1-abc", ".m.npz.tmp-\(getpid())-abc", ".other.npz.tmp-99999999-1"]
    for name in stale + live + [".m.npz.lock"] {
      #expect(FileManager.default.createFile(atPath: scratch.path(name), contents: Data([1, 2, 3])))
    }
    // A refused append is not a successful write: nothing is removed.
    #expect(throws: MemoryFileError.self) { try MemoryFile.append(.vectors([[1]]), to: path) }
    #expect(Set(stale).isSubset(of: try FileManager.default.contentsOfDirectory(atPath: scratch.folder)))
    try MemoryFile.append(Samples.vectors, to: path)
    let names = try FileManager.default.contentsOfDirectory(atPath: scratch.folder).sorted()
    #expect(names == (live + ["m.npz"]).sorted())
    #expect(try MemoryFile.read(contentsOf: path).count == 6)
  }

  /// While another holds the lock, a writer waits; it writes once the lock is released.
  @Test func aWriterWaitsForTheLock() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let path = scratch.path("m.npz")
    try MemoryFile(patterns: Samples.vectors).write(to: path)
    let fd = try Self.holdLock(scratch.path(".m.npz.lock"))
    let done = DispatchSemaphore(value: 0)
    let failures = Collected()
    Thread {
      do { try MemoryFile.append(Samples.vectors, to: path) } catch { failures.add("\(error)") }
      done.signal()
    }.start()
    #expect(done.wait(timeout: .now() + 0.3) == .timedOut, "the append did not wait for the lock")
    #expect(try MemoryFile.read(contentsOf: path).count == 3)
    close(fd)
    #expect(done.wait(timeout: .now() + 30) == .success)
    #expect(failures.all.isEmpty, "\(failures.all)")
    #expect(try MemoryFile.read(contentsOf: path).count == 6)
    #expect(!FileManager.default.fileExists(atPath: scratch.path(".m.npz.lock")))
  }

  /// A writer gives up after its lock timeout while another holds the lock, names the lock file
  /// and leaves the memory file as it was.
  @Test func aWriterGivesUpAfterTheLockTimeout() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let path = scratch.path("m.npz")
    try MemoryFile(patterns: Samples.vectors).write(to: path)
    let fd = try Self.holdLock(scratch.path(".m.npz.lock"))
    defer { close(fd) }
    let started = ContinuousClock.now
    #expect {
      try MemoryFile.append(Samples.vectors, to: path, lockTimeout: .milliseconds(200))
    } throws: { error in
      let message = (error as? MemoryFileError)?.message ?? ""
      return message.hasPrefix(path) && message.contains(".m.npz.lock") && message.contains("not written")
    }
    let waited = ContinuousClock.now - started
    #expect(waited >= .milliseconds(200) && waited < .seconds(10))
    #expect(try MemoryFile.read(contentsOf: path).count == 3)
  }

  /// Opens (creating) the lock file at `path` and takes its exclusive lock, as another writer
  /// would; closing the descriptor releases it.
  static func holdLock(_ path: String) throws -> Int32 {
    let fd = open(path, O_RDONLY | O_CREAT, 0o644)
    try #require(fd >= 0)
    #expect(flock(fd, LOCK_EX) == 0)
    return fd
  }
}
