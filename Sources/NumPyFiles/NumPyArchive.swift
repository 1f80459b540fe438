/// The arrays of an `.npz` file, by name, in archive order.
///
/// Names are the keys `np.load` gives: the member file name without its `".npy"` suffix, so
/// `np.savez("f.npz", weights=w)` yields one entry named `"weights"`.
///
/// ```swift
/// var archive = NumPyArchive()
/// archive["weights"] = try NumPyArray(shape: [2, 2], doubles: [1, 0, 0, 1])
/// try NPZ.write(archive, to: "model.npz")
/// ```
public struct NumPyArchive: Sendable, Equatable {
  /// One named array of an archive.
  public struct Entry: Sendable, Equatable {
    /// The array's name, without the `".npy"` suffix of its ZIP member.
    public var name: String
    /// The array.
    public var array: NumPyArray

    /// Creates an entry.
    public init(name: String, array: NumPyArray) {
      self.name = name
      self.array = array
    }
  }

  /// The entries in archive order. Encoding checks that names are valid and distinct.
  public var entries: [Entry]

  /// Creates an archive from `entries`, keeping their order.
  public init(_ entries: [Entry] = []) {
    self.entries = entries
  }

  /// The array named `name`, or `nil`.
  ///
  /// Setting a value replaces the entry of that name in place or, if there is none, appends a
  /// new entry at the end; setting `nil` removes entries of that name.
  public subscript(name: String) -> NumPyArray? {
    get { entries.first { $0.name == name }?.array }
    set {
      guard let newValue else {
        entries.removeAll { $0.name == name }
        return
      }
      if let index = entries.firstIndex(where: { $0.name == name }) {
        entries[index].array = newValue
        var seen = false
        entries.removeAll { entry in
          guard entry.name == name else { return false }
          defer { seen = true }
          return seen
        }
      } else {
        entries.append(Entry(name: name, array: newValue))
      }
    }
  }

  /// The entry names in archive order.
  public var names: [String] { entries.map(\.name) }
}
