"""The benchmark harness of ``make bench`` (DESIGN.md section 12).

``python -m bench --scale national`` seeds a network at scale on PostgreSQL and Redis
(``seed.py``), starts daphne processes on it (``servers.py``), measures every figure against its
floor in the same run, interleaved (``measure.py`` for HTTP, ``realtime.py`` for WebSockets and the
channel layer), and writes docs/benchmarks.md and docs/benchmarks.json (``report.py``). ``run.py``
puts these together; tests/bench runs the whole of it at the tiny scale.

The floors are served by the same daphne processes (``bench.settings`` adds ``bench.urls``): a bare
authenticated DRF view, and the raw SQL of the pipeline's aggregates.
"""
