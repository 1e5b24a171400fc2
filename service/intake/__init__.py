"""Intake processes: the CPU work of a report (validation, analysis, storage) beside the API's event loop.

One uvicorn process serves HTTP on one core. With `INTAKE_WORKERS` > 0 it hands each report's body to one of
that many intake processes over a socket pair and only relays their answer, so a report's analysis and
insert run on the other cores, and a big email never stalls the loop that serves everything else.
"""
