"""Pure text-to-record code for Thai official letters.

Nothing in this package imports Flask, SQLAlchemy or Redis, so the parsers can be
tested and benchmarked alone. The entry point is `parsers.pipeline.parse_document`.
"""
