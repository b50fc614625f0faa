"""Documents the service issues: covering letters (PDF and DOCX) and exports of collected answers.

Plain functions over plain data: nothing here opens the database, so routing operations, jobs
and tests can call them directly.
"""
