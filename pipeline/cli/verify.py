"""`powerfill verify RUN_ID [--optimality]`: independent invariant check; exit 1 on any violation."""

from __future__ import annotations

import argparse

from pipeline.cli import CliError
from pipeline.cli._common import add_tenant_args, tenant_engine


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("verify", help="check a run's invariants (ENGINE.md §6) from the inputs, independently")
    p.add_argument("run_id")
    p.add_argument("--optimality", action="store_true", help="also re-solve every level's LP bound")
    add_tenant_args(p)
    p.set_defaults(handler=_verify)


def _verify(args: argparse.Namespace) -> int:
    from pipeline.verify.invariants import verify_run

    engine = tenant_engine(args)
    try:
        violations = verify_run(engine, args.tenant, args.run_id)
    except LookupError as err:
        raise CliError(str(err)) from None
    for v in violations:
        print(v)
    if args.optimality:
        from pipeline.verify.optimality import verify_bounds

        bound_problems = verify_bounds(engine, args.tenant, args.run_id)
        for line in bound_problems:
            print(line)
        violations = [*violations, *bound_problems]
    print(f"{'FAIL' if violations else 'OK'}: {len(violations)} violation(s) in run {args.run_id}")
    return 1 if violations else 0
