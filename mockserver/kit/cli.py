"""`mockserver contract server|client|drift`: the kit's subcommands (wired into `mockserver.cli`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not 1 or more")
    return value


def add_contract_commands(commands) -> None:
    contract = commands.add_parser("contract", help="the contract kit: check a server, a client, or drift",
                                   description="The contract kit: one suite, from contracts/, for servers and clients.")
    kinds = contract.add_subparsers(dest="contract_command", required=True)

    server = kinds.add_parser("server", help="check any OpenAI-compatible server against contracts/",
                              description="Generated valid and invalid requests (Schemathesis) and scenarios, "
                                          "against a base URL. Exit 1 on any failure.")
    server.add_argument("--base-url", required=True, help="the server's OpenAI base URL, e.g. http://127.0.0.1:8000/v1")
    server.add_argument("--family", action="append", metavar="FAMILY",
                        help="only these families (chat, chat.completions, responses, conversations, files, ...); repeatable")
    server.add_argument("--operation", action="append", metavar="ID", help="only these operations (responses.create, files.*); repeatable")
    server.add_argument("--examples", type=positive_int, default=20, help="generated cases per operation and mode (default 20)")
    server.add_argument("--seed", type=int, default=0, help="seed of the generated cases (default 0; -1: a random one)")
    server.add_argument("--time-limit", type=float, metavar="SECONDS", help="stop generating after this long")
    server.add_argument("--api-key", default="sk-mockserver-contract", help="sent as Authorization: Bearer KEY")
    server.add_argument("--header", action="append", default=[], metavar="'NAME: VALUE'", help="an extra header; repeatable")
    server.add_argument("--model", default="gpt-4o-mini", help="the model valid requests and scenarios name")
    server.add_argument("--embedding-model", default="text-embedding-3-small", help="the model valid embeddings requests name")
    server.add_argument("--no-generated", action="store_true", help="scenarios only")
    server.add_argument("--no-scenarios", action="store_true", help="generated cases only")
    server.add_argument("--scenario", action="append", metavar="NAME", help="only these scenarios (links, chat.usage_chunk, ...)")
    server.add_argument("--poll-seconds", type=float, default=60, help="how long a background response or batch may take")
    server.add_argument("--timeout", type=float, default=30, help="seconds per request")
    server.add_argument("--junit", type=Path, metavar="PATH", help="write JUnit XML here")
    server.add_argument("--html", type=Path, metavar="PATH", help="write the HTML matrix here")
    server.add_argument("--json", type=Path, metavar="PATH", help="write the results as JSON here")

    client = kinds.add_parser("client", help="run a client command against the fake and judge what it sent",
                              description="Starts the fake on a free port, runs COMMAND with OPENAI_BASE_URL, OPENAI_API_KEY "
                                          "and Azure's variables pointing at it, and reports the requests that break the "
                                          "contracts. With --fuzz, answers are generated from the response contracts and "
                                          "the first one that breaks the command is shrunk and reported.")
    client.add_argument("--fixtures", nargs="+", type=Path, action="extend", metavar="PATH", help="fixture files or directories")
    client.add_argument("--config", type=Path, help="a mockserver.yaml for the fake")
    client.add_argument("--violations", choices=["record", "reject"], default="record",
                        help="record: answer normally where the fake can (offending fields dropped) and report; "
                             "reject: the fake's 400 (default record)")
    client.add_argument("--fuzz", action="store_true", help="answer with responses generated from the contracts")
    client.add_argument("--examples", type=positive_int, default=10, help="fuzzing: runs of the command (default 10)")
    client.add_argument("--seed", type=int, default=0, help="fuzzing: the seed (default 0)")
    client.add_argument("--fuzz-operation", action="append", metavar="ID",
                        help="fuzzing: only answers of these operations (default chat.completions.create, responses.create)")
    client.add_argument("--errors", action="store_true", help="fuzzing: include documented error statuses")
    client.add_argument("--shrink-seconds", type=float, default=30,
                        help="fuzzing: how long to shrink a finding by running the command again (default 30)")
    client.add_argument("--timeout", type=float, default=120, help="seconds per run of the command")
    client.add_argument("--port", type=int, default=0, help="the fake's port (default: a free one)")
    client.add_argument("--json", type=Path, metavar="PATH", help="write the findings as JSON here")
    client.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- COMMAND ...")

    drift = kinds.add_parser("drift", help="the installed SDK's types, recorded traffic and the fake's answers, per field",
                             description="Per operation and field: what the installed SDK's types declare, what recorded "
                                         "real traffic carries, and what the fake sends; telling 'the fake is behind' from "
                                         "'the API changed before the SDK'.")
    drift.add_argument("--recordings", type=Path, action="append", metavar="DIR",
                       help="recorded traffic (default ../shared/recordings) or a user's VCR cassettes; repeatable")
    drift.add_argument("--json", type=Path, metavar="PATH", help="write the table as JSON here")
    drift.add_argument("--all", action="store_true", help="list fields where all three agree too")


def run_contract(args: argparse.Namespace) -> int:
    if args.contract_command == "server":
        return _server(args)
    if args.contract_command == "client":
        from .client import main as client_main

        return client_main(args)
    from .drift import main as drift_main

    return drift_main(args)


def _server(args: argparse.Namespace) -> int:
    try:
        import schemathesis  # noqa: F401
    except ImportError:
        print("mockserver contract server needs Schemathesis: pip install 'mockserver[kit]'", file=sys.stderr)
        return 2
    from .operations import operations, select
    from .server import ServerOptions, run

    if not args.base_url.startswith(("http://", "https://")):
        print(f"mockserver: --base-url {args.base_url!r} is not an http:// or https:// URL", file=sys.stderr)
        return 2
    if (args.family or args.operation) and not select(args.family, args.operation):
        known = sorted({op.id.rsplit(".", 1)[0] for op in operations()})
        print(f"mockserver: --family / --operation match no operation; families: {', '.join(known)}", file=sys.stderr)
        return 2
    headers = {}
    for header in args.header:
        name, sep, value = header.partition(":")
        if not sep:
            print(f"mockserver: --header {header!r} is not 'Name: value'", file=sys.stderr)
            return 2
        headers[name.strip()] = value.strip()
    options = ServerOptions(
        base_url=args.base_url, families=args.family, operations=args.operation, examples=args.examples,
        seed=None if args.seed == -1 else args.seed, time_limit=args.time_limit, api_key=args.api_key, headers=headers,
        model=args.model, embedding_model=args.embedding_model, generated=not args.no_generated, scenarios=not args.no_scenarios, scenario_names=args.scenario,
        timeout=args.timeout, poll_seconds=args.poll_seconds,
    )
    report = run(options)
    print(report.summary(color=sys.stdout.isatty()))
    if args.junit:
        report.write_junit(args.junit)
    if args.html:
        report.write_html(args.html)
    if args.json:
        report.write_json(args.json)
    return 1 if report.failures else 0
