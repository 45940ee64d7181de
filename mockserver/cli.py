"""The `mockserver` command."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .config import Config, load_config
from .yamlio import SourceError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mockserver", description="An offline fake of the OpenAI API.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the fake API")
    serve.add_argument("--host", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to bind (default 8000)")
    serve.add_argument("--fixtures", nargs="+", type=Path, action="extend", metavar="DIR",
                       help="fixture files or directories (default: the bundled fixtures)")
    serve.add_argument("--config", type=Path, help="a mockserver.yaml")
    serve.add_argument("--strict-fixtures", action="store_true", default=None,
                       help="answer 404 fixture_not_found instead of synthesizing when no fixture matches")
    serve.add_argument("--require-auth", action="store_true", default=None, help="demand an API key (401 otherwise)")
    serve.add_argument("--lenient", action="store_true", default=None,
                       help="accept any model and check requests against the schemas only")
    serve.add_argument("--state", type=Path, metavar="PATH",
                       help="keep stored responses, conversations, completions and files in this SQLite file "
                            "(files' bytes in PATH.files/ beside it; default: in memory)")
    serve.add_argument("--seed", type=int, help="seed for synthesized answers and ids (default 0)")
    serve.add_argument("--log-level", default="warning", help="uvicorn log level (default warning)")
    return parser


def config_from(args: argparse.Namespace) -> Config:
    config = load_config(args.config) if args.config else Config()
    overrides = {
        "host": args.host,
        "port": args.port,
        "fixtures": args.fixtures,
        "strict_fixtures": args.strict_fixtures,
        "require_auth": args.require_auth,
        "lenient": args.lenient,
        "seed": args.seed,
        "state": args.state,
    }
    return config.replace(**{k: v for k, v in overrides.items() if v is not None})


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = config_from(args)
        from . import tokens
        from .app import create_app

        tokens.FREEZE_AFTER_LOAD = True
        app = create_app(config)
    except SourceError as exc:
        print(f"mockserver: {exc}", file=sys.stderr)
        return 2
    import gc

    import uvicorn

    gc.freeze()  # what start-up built lives as long as the server: no need to scan it again
    from .protocol import server_options

    print(f"mockserver: serving http://{config.host}:{config.port}/v1", file=sys.stderr, flush=True)
    uvicorn.run(
        app,
        host=config.host,
        port=config.port,
        loop="uvloop",
        log_level=args.log_level,
        access_log=False,
        **server_options(config),  # httptools with the transport exposed for network faults, and limits
    )
    return 0
