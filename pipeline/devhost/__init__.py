"""The local host (DESIGN.md §9): runs the functions registered in `function_app.py` without Core Tools.

It reads the app's function metadata (`FunctionApp.get_functions()`), so there is no second routing
table: HTTP triggers are served by a ThreadingHTTPServer, queue triggers are fed from Azurite with
host.json's queue semantics, timer triggers fire on their NCRONTAB schedules. `DevHost` in
`host.py` puts the pieces together; `powerfill serve` runs it.
"""

from pipeline.devhost.host import DevHost

__all__ = ["DevHost"]
