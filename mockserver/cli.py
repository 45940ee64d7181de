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
    serve.add_argument("--tls", action="store_true",
                       help="serve HTTPS and WSS on the same port (a self-signed certificate made at start-up, its CA "
                            "path printed, unless --tls-cert and --tls-key name one)")
    serve.add_argument("--tls-cert", type=Path, metavar="PEM", help="the certificate (chain) to serve with --tls")
    serve.add_argument("--tls-key", type=Path, metavar="PEM", help="its private key")
    serve.add_argument("--tls-dir", type=Path, metavar="DIR",
                       help="where the self-signed certificate and its CA are written (default: a new temporary directory)")
    from .kit.cli import add_contract_commands

    add_contract_commands(commands)
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
    if args.command == "contract":
        from .kit.cli import run_contract

        return run_contract(args)
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

    certificate = tls_certificate(args, config)
    scheme = "https" if certificate is not None else "http"
    print(f"mockserver: serving {scheme}://{config.host}:{config.port}/v1", file=sys.stderr, flush=True)
    if certificate is not None and certificate.ca is not None:
        print(f"mockserver: TLS certificate authority {certificate.ca} (trust it with NODE_EXTRA_CA_CERTS={certificate.ca} "
              f"or SSL_CERT_FILE={certificate.ca})", file=sys.stderr, flush=True)
    from .tls import uvicorn_options

    uvicorn.run(
        app,
        host=config.host,
        port=config.port,
        loop="uvloop",
        log_level=args.log_level,
        access_log=False,
        **server_options(config),  # httptools with the transport exposed for network faults, and limits
        **uvicorn_options(certificate),
    )
    return 0


def tls_certificate(args: argparse.Namespace, config: Config):
    """The certificate `--tls` serves with: the one given, or a self-signed one made now."""
    from .tls import Certificate, self_signed

    if args.tls_cert or args.tls_key:
        if not (args.tls_cert and args.tls_key):
            raise SystemExit("mockserver: --tls-cert and --tls-key go together")
        return Certificate(args.tls_cert, args.tls_key, None)
    if not args.tls:
        return None
    return self_signed(args.tls_dir, config.host)
