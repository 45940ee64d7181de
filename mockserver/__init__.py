"""mockserver: an offline fake of the OpenAI API and a contract-test kit."""

from .app import create_app
from .config import Config, load_config

__version__ = "0.1.0"
__all__ = ["Config", "create_app", "load_config", "__version__"]
