"""Benchmark harness: the gateway against direct, Envoy-only, LiteLLM and Portkey.

Run with ``python -m bench`` (full run) or ``python -m bench --smoke`` (direct + gateway only).
"""
