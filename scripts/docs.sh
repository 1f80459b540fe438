#!/usr/bin/env bash
# Checks the API documentation: builds the DocC archives of DAM, NumPyFiles, MemoryFiles and DAMDatasets
# (swift-docc-plugin, `--analyze`) and fails on any DocC warning (unresolved symbol links,
# unknown parameters, ...) and on any public top-level symbol that the module's catalog page
# (Sources/<Module>/<Module>.docc/<Module>.md) does not curate under its Topics (DocC files
# those in automatic groups without a warning).
#
#   bash scripts/docs.sh
#
# Cost (measured on the 2 shared cores at load 7-8, release build folder already built): about
# 3 minutes from a build folder without symbol graphs (the plugin compiles the three modules
# again with symbol-graph output), about 20 s when they are cached. scripts/test.sh runs it after
# the test suite.
# Environment:
#   DAM_DOCS_SCRATCH  build folder (default .build).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
scratch="${DAM_DOCS_SCRATCH:-.build}"
modules=(DAM NumPyFiles MemoryFiles DAMDatasets)
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
targets=()
for module in "${modules[@]}"; do targets+=(--target "$module"); done
swift package --scratch-path "$scratch" generate-documentation "${targets[@]}" --analyze 2>&1 | tee "$log"
warnings=$(grep -c "warning:" "$log" || true)
status=0
if [ "$warnings" -ne 0 ]; then
  echo "docs: $warnings DocC warning(s) above" >&2
  status=1
fi

# Curation: every public top-level symbol of the symbol graph appears as ``Name`` on the
# module's page.
if command -v python3 >/dev/null 2>&1; then
  python3 - "$scratch" "${modules[@]}" <<'PY' || status=1
import glob, json, re, sys
scratch, modules = sys.argv[1], sys.argv[2:]
failed = False
for module in modules:
    graphs = glob.glob(f"{scratch}/*/extracted-symbols/*/{module}/{module}.symbols.json")
    if not graphs:
        print(f"docs: no symbol graph for {module} under {scratch}", file=sys.stderr)
        failed = True
        continue
    graph = json.load(open(graphs[0]))
    top = sorted({s["pathComponents"][0] for s in graph["symbols"] if len(s["pathComponents"]) == 1})
    page = open(f"Sources/{module}/{module}.docc/{module}.md").read()
    curated = set(re.findall(r"``([^`/]+)``", page))
    missing = [name for name in top if name not in curated]
    if missing:
        print(f"docs: {module}: not curated in {module}.docc/{module}.md: {', '.join(missing)}", file=sys.stderr)
        failed = True
    else:
        print(f"docs: {module}: {len(top)} top-level symbols, all curated")
sys.exit(1 if failed else 0)
PY
else
  echo "docs: python3 not found; the curation check was skipped" >&2
fi
exit "$status"
