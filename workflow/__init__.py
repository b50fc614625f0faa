"""Saraban: the document-workflow service (models, operations, jobs, web layer)."""
