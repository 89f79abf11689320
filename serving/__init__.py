"""Serving: what leaves the platform for its readers, read from the published warehouse.

The Security Department's reports (``reports``), map layers for GIS tools
(``exports``) and the operators' ``ksp status`` (``status``). It may import
``ingestion`` (settings, the ledger's read functions) and ``warehouse``; never
orchestration or the simulator.
"""
