"""The record document and its merge engine.

Pure Python: nothing here imports Flask or the web application, so the rules can be
tested (and reused by another server) on plain data.
"""
