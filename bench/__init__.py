"""Benchmarks: run them as scripts (``python bench/ingest.py``); see bench/README.md."""
