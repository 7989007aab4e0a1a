"""Hybrid BM25 + embedding retrieval over citable passages."""
