import NumPyFiles
import Testing

@Suite("NumPyArray")
struct ArrayTests {
  @Test("Shape and element count are validated")
  func validation() throws {
    #expect(try NumPyArray(shape: [], doubles: [1]).count == 1)
    #expect(try NumPyArray(shape: [2, 0, 4], doubles: []).count == 0)
    var error = #expect(throws: NumPyError.self) { try NumPyArray(shape: [2, 3], doubles: [1, 2]) }
    #expect(error?.message == "shape (2, 3) has 6 elements but 2 were given")
    error = #expect(throws: NumPyError.self) { try NumPyArray(shape: [], integers: []) }
    #expect(error?.message == "shape () has 1 elements but 0 were given")
    error = #expect(throws: NumPyError.self) { try NumPyArray(shape: [2, -1], doubles: []) }
    #expect(error?.message.contains("dimension -1 is negative") == true)
    error = #expect(throws: NumPyError.self) { try NumPyArray(shape: [1 << 40, 1 << 40], doubles: []) }
    #expect(error?.message.contains("overflows") == true)
  }

  @Test("dtype follows storage", arguments: NumPyDType.allCases)
  func dtypes(dtype: NumPyDType) throws {
    let array = try Support.sampleArray(dtype, shape: [3])
    #expect(array.dtype == dtype)
    #expect(NumPyDType(rawValue: dtype.rawValue) == dtype)
  }

  @Test("doubles() converts every dtype")
  func doubles() throws {
    #expect(try NumPyArray(shape: [2], storage: .bool([true, false])).doubles() == [1, 0])
    #expect(try NumPyArray(shape: [2], storage: .uint8([255, 0])).doubles() == [255, 0])
    #expect(try NumPyArray(shape: [2], storage: .int32([-3, .max])).doubles() == [-3, 2_147_483_647])
    #expect(try NumPyArray(shape: [1], storage: .int64([-(1 << 53)])).doubles() == [-9_007_199_254_740_992])
    #expect(try NumPyArray(shape: [1], storage: .float32([0.5])).doubles() == [0.5])
  }

  @Test("integers() is exact")
  func integers() throws {
    #expect(try NumPyArray(shape: [3], doubles: [1, -2, 3e15]).integers() == [1, -2, 3_000_000_000_000_000])
    #expect(try NumPyArray(shape: [2], storage: .int64([.min, .max])).integers() == [.min, .max])
    #expect(try NumPyArray(shape: [2], storage: .bool([true, false])).integers() == [1, 0])
    #expect(try NumPyArray(shape: [1], storage: .float32([-7])).integers() == [-7])
  }

  static let nonIntegers: [(Double, String)] = [
    (2.5, "element at flat index 2 is 2.5, which is not an integer"),
    (.nan, "element at flat index 2 is nan, which is not an integer"),
    (.infinity, "element at flat index 2 is inf, which is not an integer"),
    (1e19, "element at flat index 2 is 1e+19, outside the range of Int"),
    (9_223_372_036_854_775_808, "element at flat index 2 is 9.223372036854776e+18, outside the range of Int"),
  ]

  @Test("integers() names the flat index and value of a non-integer", arguments: nonIntegers)
  func nonInteger(value: Double, message: String) throws {
    let array = try NumPyArray(shape: [3], doubles: [0, 1, value])
    let error = #expect(throws: NumPyError.self) { try array.integers() }
    #expect(error?.message == message)
    #expect(error?.description == message)
  }
}
