"""The warehouse: dbt runs on the landed tables, the build plan, and publication.

``warehouse.dbt`` is the one place that starts dbt (its command line, environment,
parsed manifest, docs and source freshness); ``warehouse.build`` is the one build
sequence (plan → ``dbt build`` → publish, or record the failure) that both the
``build_warehouse`` DAG and ``ksp build`` call; ``warehouse.publish`` copies the marts
into the read-only file researchers and reports open. It may import ``ingestion``
(settings, the ledger that records builds), never serving, orchestration or the
simulator.
"""
