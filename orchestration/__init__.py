"""Orchestration glue: what Airflow and the ``ksp`` command need to run the rest.

The Assets that connect ingestion and dbt (``assets``), the triggerer's inbox watcher
(``triggers``), the DAG builders the files in ``dags/`` call (``dag_builders``), the
calendar's checks (``calendar``), failure alerts and mail (``alerts``) and the ``ksp``
command (``cli``). It may import ``ingestion``, ``warehouse`` and ``serving``; nothing
below it imports it, and it never imports the simulator (the simulator's commands
reach ``ksp`` through an entry point).
"""
