"""Ingestion: every delivery from the door to the landing tables.

Sources (one parser per SPEC source in ``sources/``), validation (Great Expectations
suites in ``expectations/``), privacy (scrubbing, pseudonyms), inbox claims and
announcements, landing (typed Parquet) and the ledger (``ops.*``, the one owner of
that store), plus the settings every package reads (``config``). This is the bottom
layer: it imports none of the platform's other packages (``warehouse``, ``serving``,
``orchestration``, ``simulator``); they import it.
"""
