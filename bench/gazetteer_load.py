"""How long the compiled gazetteer takes to load and answer, in this process.

Run from the repository root:

    python -m bench.gazetteer_load            # TSV figures
    python -m bench.gazetteer_load --yaml     # also time the YAML it replaces (seconds)

It prints figures; it asserts nothing.
"""

import argparse
import statistics
import time
from collections.abc import Callable

from shared.gazetteer import TSV_PATH, Gazetteer, Level


def _timings_ms(action: Callable[[], object], runs: int) -> list[float]:
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        timings.append((time.perf_counter() - start) * 1000)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--yaml", action="store_true", help="also time loading the YAML")
    args = parser.parse_args()

    # The first load is the one a starting process pays (the file may not be cached yet).
    first_ms = _timings_ms(lambda: Gazetteer.from_path(TSV_PATH), 1)[0]
    loads = _timings_ms(lambda: Gazetteer.from_path(TSV_PATH), args.runs)
    print(f"file: {TSV_PATH} ({TSV_PATH.stat().st_size:,} bytes)")
    print(
        f"load: {statistics.median(loads):.2f} ms median, {min(loads):.2f} ms min, "
        f"{max(loads):.2f} ms max over {args.runs} runs (first {first_ms:.2f} ms)"
    )

    gazetteer = Gazetteer.from_path(TSV_PATH)
    index_ms = _timings_ms(lambda: gazetteer.count(Level.VILLAGE), 1)[0]
    counts = ", ".join(f"{gazetteer.count(level):,} {level}s" for level in Level)
    print(f"units: {len(gazetteer):,} ({counts})")
    print(f"first per-level query (builds the level index): {index_ms:.2f} ms")

    codes = [unit.code for unit in gazetteer.descendants("", Level.VILLAGE)[::50]]
    fresh = Gazetteer.from_path(TSV_PATH)
    cold = _timings_ms(lambda: [fresh.require(code) for code in codes], 1)[0]
    warm = _timings_ms(lambda: [fresh.require(code) for code in codes], 1)[0]
    print(
        f"require() of a village code: {cold * 1000 / len(codes):.1f} µs first time, "
        f"{warm * 1000 / len(codes):.1f} µs after ({len(codes)} codes)"
    )

    if args.yaml:
        from shared.gazetteer.build import read_rows

        yaml_ms = _timings_ms(read_rows, 1)[0]
        print(f"yaml: {yaml_ms:.0f} ms to parse the four YAML files, for comparison")


if __name__ == "__main__":
    main()
