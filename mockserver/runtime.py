"""Everything a request may consult, built once at start-up: the server's shared state.

Built eagerly so that a broken fixture, config or contract stops start-up with a
message naming the file, instead of failing the first request that needs it.
"""

from __future__ import annotations

import random
import secrets

from .catalog import Catalog
from .clock import Clock
from .config import Config, ModelEntry
from .contracts import Contracts, load_model_names
from .fixtures import FixtureStore, load_fixtures
from .faults.engine import FaultEngine
from .ids import Ids
from .journal import Journal
from .lru import LRU
from .prompt_cache import PromptCache
from .ratelimit import RateLimits
from .state import open_store
from .routing import Operation, all_operations, resolve_endpoint
from .tokens import Tokenizer
from .yamlio import SourceError


class Runtime:
    def __init__(self, config: Config, operations: list[Operation] | None = None) -> None:
        self.config = config
        self.operations = operations if operations is not None else all_operations()
        self.ids = Ids(config.seed)
        self.tokenizer = Tokenizer()
        self.contracts = Contracts(lenient=config.lenient)
        try:
            self.catalog = Catalog(load_model_names(), config.models)
        except LookupError as exc:
            line = next((m.line for m in config.models if m.like and m.like in str(exc)), None)
            raise SourceError(config.source or "config", line, str(exc)) from None
        fixtures = load_fixtures(
            config.fixture_paths(),
            lambda name: resolve_endpoint(name, self.operations),
            exclude={config.source} if config.source else set(),
        )
        self.fixtures = FixtureStore(fixtures)
        for fixture in fixtures:  # a model a fixture names is a model the fake knows
            for model in fixture.criteria.models:
                if self.catalog.get(model) is None:
                    self.catalog.add(ModelEntry(id=model))
        self.prompt_cache = PromptCache()
        # Answers already rendered for the same request bytes: at most 1,024 of them and
        # 64 MiB by estimate, keys included (`runtime.memo.max_bytes` may be changed).
        self.memo = LRU(1024, max_bytes=64 << 20)
        self.rate_limits = RateLimits(config.rate_limits, config.enforce_rate_limits)
        self.faults = FaultEngine(
            lambda name: resolve_endpoint(name, self.operations),
            seed=config.seed,
            rules=config.faults,
            scenarios=config.scenarios,
            source=config.source or "config",
        )
        self.faults_rng = random.Random(config.seed)  # jitter: seeded, like every other choice
        self.journal = Journal(config.journal_size)
        self.store = open_store(config.state, config.state_max_objects)
        self.clock = Clock(config.time_scale)
        from .batches import BatchRunner  # here: the batches package imports the envelope, which reads this

        self.batches = BatchRunner(self)  # the batches in flight; started by the first request
        from .realtime import RealtimeState

        self.realtime = RealtimeState()  # realtime client secrets and calls
        self.run_id = secrets.token_hex(8)  # tells this run's clock readings from an earlier run's (stored ones)
        self.journaling = config.fault_engine
        self.organization = b"user-mockserver"
        self.project = b"proj_mockserver"
        self.system_fingerprint = self.ids.make("fp_", 10, "0123456789abcdef")

    def reset(self) -> None:
        """Back to the state at start-up: sequences, caches (prompt cache, remembered
        answers and prompts), buckets, fault rules and counters, the journal, the batches in
        flight, and every stored object and file content (in a `--state` file too)."""
        self.fixtures.reset()
        self.prompt_cache.clear()
        self.memo.clear()
        self.tokenizer.clear()
        self.rate_limits.reset()
        self.catalog.deleted.clear()
        self.faults.reset()
        self.journal.clear()
        self.batches.reset()  # before the store: a batch in flight writes nothing more
        self.store.clear()
        self.realtime.clear()
        self.clock.reset()
        self.run_id = secrets.token_hex(8)
        self.faults_rng = random.Random(self.config.seed)
