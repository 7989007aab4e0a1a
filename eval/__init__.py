"""Evaluation suite for the retrieval QA assistant: metrics, scoring and CLI."""
