import DAM

extension RetrievalEngine {
  /// Every query's result, or nil where that query's retrieval failed: the queries as one batch,
  /// and one by one (concurrently) only if the batch fails, to tell the failing queries apart.
  package func retrieveEach(_ queries: [D.State]) -> [RetrievalResult<D.State>?] {
    guard !queries.isEmpty else { return [] }
    if let results = try? retrieve(batch: queries) { return results }
    let results = ParallelResults<RetrievalResult<D.State>?>(count: queries.count, initial: nil)
    forEachChunk(queries.count, workers: coreCount) { i in
      results.set(i, try? retrieve(queries[i]))
    }
    return results.values
  }
}
