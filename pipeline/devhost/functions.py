"""Discovery: the app's registered functions, grouped by trigger, with settings names resolved.

Everything here comes from `FunctionApp.get_functions()` — the same metadata the Functions host
indexes — so the local host never keeps its own list of routes, queues or schedules.
"""

from __future__ import annotations

import asyncio
import importlib.util
import inspect
import os
import re
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import azure.functions as func

from pipeline.devhost.routing import RouteTemplate

_SETTING = re.compile(r"%([^%]+)%")


def resolve_setting_refs(value: str, environ: Mapping[str, str] | None = None, defaults: Mapping[str, str] | None = None) -> str:
    """Replace `%NAME%` with the app setting NAME (environment first, then `defaults`)."""
    env = os.environ if environ is None else environ

    def sub(m: re.Match) -> str:
        name = m.group(1)
        if name in env:
            return env[name]
        if defaults and name in defaults:
            return defaults[name]
        raise KeyError(f"app setting {name!r} is not set (referenced as %{name}%)")

    return _SETTING.sub(sub, value)


def setting_defaults() -> dict[str, str]:
    """App settings' default values, by their environment names, from the one Settings model."""
    from pipeline.settings import Settings

    out: dict[str, str] = {}
    settings = Settings()
    for name, info in Settings.model_fields.items():
        if info.alias:
            out[info.alias] = str(getattr(settings, name))
    return out


@dataclass
class InvocationContext:
    """The part of `func.Context` an app may read."""

    invocation_id: str
    function_name: str
    function_directory: str = ""
    trace_context: Any = None
    retry_context: Any = None


@dataclass
class Function:
    name: str
    user_function: Callable[..., Any]
    arg_name: str
    trigger: Any

    def invoke(self, trigger_value: Any) -> Any:
        """Call the user function as the Python worker does: the trigger by its arg name, plus `context`."""
        kwargs: dict[str, Any] = {self.arg_name: trigger_value}
        if "context" in inspect.signature(self.user_function).parameters:
            kwargs["context"] = InvocationContext(str(uuid.uuid4()), self.name)
        result = self.user_function(**kwargs)
        if inspect.iscoroutine(result):
            result = asyncio.run(result)
        return result


@dataclass
class HttpFunction(Function):
    template: RouteTemplate = None  # type: ignore[assignment]
    methods: tuple[str, ...] = ()


@dataclass
class QueueFunction(Function):
    queue_name: str = ""
    connection_setting: str = "AzureWebJobsStorage"


@dataclass
class TimerFunction(Function):
    schedule: str = ""
    run_on_startup: bool = False


@dataclass
class AppFunctions:
    http: list[HttpFunction]
    queues: list[QueueFunction]
    timers: list[TimerFunction]
    unsupported: list[str]


def discover(app: func.FunctionApp, environ: Mapping[str, str] | None = None) -> AppFunctions:
    defaults = setting_defaults()
    http: list[HttpFunction] = []
    queues: list[QueueFunction] = []
    timers: list[TimerFunction] = []
    unsupported: list[str] = []
    for f in app.get_functions():
        trigger = f.get_trigger()
        name = f.get_function_name()
        user = f.get_user_function()
        ttype = getattr(trigger, "type", None) or trigger.get_binding_name()
        if ttype == "httpTrigger":
            methods = tuple(str(getattr(m, "value", m)).upper() for m in (trigger.methods or ())) or (
                "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")
            route = trigger.route or name
            http.append(HttpFunction(name, user, trigger.name, trigger, RouteTemplate.parse(route), methods))
        elif ttype == "queueTrigger":
            queue = resolve_setting_refs(trigger.queue_name, environ, defaults).lower()
            queues.append(QueueFunction(name, user, trigger.name, trigger, queue, trigger.connection or "AzureWebJobsStorage"))
        elif ttype == "timerTrigger":
            schedule = resolve_setting_refs(trigger.schedule, environ, defaults)
            timers.append(TimerFunction(name, user, trigger.name, trigger, schedule, bool(getattr(trigger, "run_on_startup", False))))
        else:
            unsupported.append(f"{name} ({ttype})")
    http.sort(key=lambda h: h.template.sort_key)
    return AppFunctions(http, queues, timers, unsupported)


def find_function_app_file() -> Path:
    """`POWERFILL_FUNCTION_APP`, else ./function_app.py, else the one beside the pipeline package."""
    explicit = os.environ.get("POWERFILL_FUNCTION_APP")
    if explicit:
        return Path(explicit)
    here = Path.cwd() / "function_app.py"
    if here.is_file():
        return here
    return Path(__file__).resolve().parents[2] / "function_app.py"


def load_function_app(path: Path | None = None) -> func.FunctionApp:
    """Import function_app.py (as the worker does: its directory on sys.path) and return its `app`."""
    path = (path or find_function_app_file()).resolve()
    if not path.is_file():
        raise FileNotFoundError(f"no function app at {path}")
    if "function_app" in sys.modules and getattr(sys.modules["function_app"], "__file__", None) == str(path):
        module = sys.modules["function_app"]
    else:
        if str(path.parent) not in sys.path:
            sys.path.insert(0, str(path.parent))
        spec = importlib.util.spec_from_file_location("function_app", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules["function_app"] = module
        spec.loader.exec_module(module)
    for value in vars(module).values():
        if isinstance(value, func.FunctionApp):
            return value
    raise LookupError(f"{path} defines no FunctionApp")
