"""Where the Hydra configs are, and turning a composed config into plain values."""

from __future__ import annotations

import copy
import os
from pathlib import Path

from omegaconf import DictConfig, OmegaConf, open_dict

CONFIG_ENV = "JAPAN_STANCE_CONFIG_DIR"


class SettingsError(ValueError):
    """A composed config that cannot make a run; the message is one line naming the setting."""


def config_dir() -> Path:
    """The absolute config folder: ``$JAPAN_STANCE_CONFIG_DIR``, the copy shipped in the
    wheel, or ``configs/`` of a source checkout (console scripts need an absolute path)."""
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV]).resolve()
    shipped = Path(__file__).resolve().parent / "configs"
    if shipped.is_dir():
        return shipped
    return Path(__file__).resolve().parents[2] / "configs"


def to_settings(cfg: DictConfig) -> dict:
    """Resolve ``cfg`` into plain containers, with ``paths.root`` made absolute first.

    The ``hydra`` node is left out; everything else is what a run logs.
    """
    cfg = copy.deepcopy(cfg)
    with open_dict(cfg):
        cfg.paths.root = str(Path(cfg.paths.root).resolve())
        cfg.pop("hydra", None)
    return OmegaConf.to_container(cfg, resolve=True)


def compose_settings(root: str | Path, overrides: list[str] | None = None) -> dict:
    """Compose the training config as plain settings, for the non-Hydra commands.

    The plain CLIs read their defaults (tracking URI, registered model name) from the same
    configs as ``stance-train``, so the two never disagree.
    """
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        cfg = compose("train", overrides=[f"paths.root={Path(root).resolve()}", *(overrides or [])])
    return to_settings(cfg)
