"""The daemon's configuration: one TOML file validated by pydantic models."""

from ocrfleet.config.errors import ConfigError
from ocrfleet.config.loader import load_config, load_config_file
from ocrfleet.config.models import Config, DeviceConfig, SiteConfig

__all__ = ["Config", "ConfigError", "DeviceConfig", "SiteConfig", "load_config", "load_config_file"]
