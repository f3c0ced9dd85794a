"""`powerfill run [--options JSON] --sync`: a whole run in this process, through the service path.

The run row is created by the same `submit_run` as HTTP (trigger=cli, BR-8 applies, no message),
then executed by the same `execute_run` as the queue worker — lease, heartbeat, fenced
checkpoints, finalize — and its RunResponse is printed as JSON. Exit 0 when Complete, 1 otherwise.
Without --sync the run is queued for the workers instead and the 202-style response printed.
"""

from __future__ import annotations

import argparse
import json
import sys

from pipeline.cli import CliError
from pipeline.cli._common import add_tenant_args, tenant_engine


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="execute a run (--sync: in this process) and print its RunResponse JSON")
    p.add_argument("--options", default="{}", help="run options as a JSON object (ENGINE.md §3)")
    p.add_argument("--sync", action="store_true", help="execute in this process instead of queueing")
    p.add_argument("--requested-by", default="cli", help="recorded as requested_by")
    add_tenant_args(p)
    p.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from pipeline.runs.config import get_config
    from pipeline.runs.store import get_run_view
    from pipeline.runs.submit import ActiveRunConflict, EnqueueFailed, submit_run
    from pipeline.runs.worker import execute_run, new_owner
    from pipeline.statuses import RunStatus, Trigger

    try:
        options = json.loads(args.options)
    except json.JSONDecodeError as err:
        raise CliError(f"--options is not JSON (line {err.lineno}, column {err.colno}): {err.msg}") from None
    if not isinstance(options, dict):
        raise CliError("--options must be a JSON object")
    engine = tenant_engine(args)
    config = get_config()
    try:
        submitted = submit_run(engine, args.tenant, options, trigger=Trigger.CLI, requested_by=args.requested_by,
                               enqueue=not args.sync, config=config)
    except ValidationError as err:
        raise CliError("invalid options: " + "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors(include_url=False))) from None
    except ActiveRunConflict as err:
        raise CliError(str(err)) from None
    except EnqueueFailed as err:
        raise CliError(str(err)) from None
    run_id = submitted.run.run_id
    if args.sync:
        execute_run(engine, args.tenant, run_id, config=config, owner=new_owner("cli"), use_budget=False)
    response = get_run_view(engine, args.tenant, run_id)
    sys.stdout.write(response.model_dump_json(indent=2) + "\n")
    if not args.sync:
        return 0
    return 0 if response.status is RunStatus.COMPLETE else 1
