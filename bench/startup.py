"""Where a cold start's time goes: generating N patients, making the record
objects, indexing them, each phase timed on its own, in one process.

    python bench/startup.py 1000000     # prints one JSON line

The server pipelines the three (rows are made into patients as they are
generated, then indexed in one pass: mockserver/store/memory.py `add_rows`);
here each runs to the end before the next starts, so each is timed alone.
Wall and CPU seconds both: on a shared machine the CPU time is the steadier.
"""

from __future__ import annotations

import gc
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]  # the repo's packages, and bench/'s own modules by name

from _servers import write_bench_fixtures  # noqa: E402

from mockserver.settings import MockSettings  # noqa: E402
from mockserver.store.generate import ROW_FIELDS, generate_rows  # noqa: E402
from mockserver.web.app import build_backend  # noqa: E402

__all__ = ["main", "phases"]


def phases(n: int, fixtures: Path) -> dict[str, float]:
    backend = build_backend(MockSettings(fixtures_dir=fixtures))  # the bench's one account, no patients
    store = backend.store
    account = store.account(1)
    timings: dict[str, float] = {}
    gc.disable()  # as the mock loads (store/memory_backend.py)
    try:
        wall, cpu = time.perf_counter(), time.process_time()
        rows = list(
            generate_rows(n, seed=MockSettings.seed, account_id=account.id, start_id=1, country=account.country)
        )
        timings.update(generate_s=time.perf_counter() - wall, generate_cpu_s=time.process_time() - cpu)
        wall, cpu = time.perf_counter(), time.process_time()
        make = store.schema.maker(ROW_FIELDS)
        patients = [make(row) for row in rows]
        del rows
        timings.update(objects_s=time.perf_counter() - wall, objects_cpu_s=time.process_time() - cpu)
        wall, cpu = time.perf_counter(), time.process_time()
        for patient in patients:  # what add_rows does for each, then one index pass
            patient.names_key = store._names_key(patient.first_name, patient.last_name)
        store._scope(account.id).index_many(patients)
        timings.update(index_s=time.perf_counter() - wall, index_cpu_s=time.process_time() - cpu)
    finally:
        gc.enable()
    return {key: round(value, 2) for key, value in timings.items()}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    n = int(args[0])
    fixtures = write_bench_fixtures(Path(args[1]) if len(args) > 1 else ROOT / "bench" / "out" / "fixtures")
    print(json.dumps({"size": n, **phases(n, fixtures)}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
