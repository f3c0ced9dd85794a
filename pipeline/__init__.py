"""PowerFill: loan-to-trade allocation as an Azure Functions app.

Everything that is not host glue lives in this package; see docs/ and the README for the map.
"""

__version__ = "0.1.0"
ENGINE_VERSION = "1.0.0"
