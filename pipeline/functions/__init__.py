"""Functions blueprints, one module per trigger family: adapters only.

Each module exposes `bp` (a `func.Blueprint`); an adapter parses its input, calls one service of
`pipeline.runs` (or another package) and maps the result or error to a response. No business
logic lives here. `function_app.py` lists the modules it registers.
"""
