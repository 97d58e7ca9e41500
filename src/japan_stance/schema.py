"""The label schema: which issues and which stances a label set has.

The schema is data, built from a data config (``configs/data/*.yaml``); every other
module takes a :class:`LabelSchema` as an argument and never restates the lists.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

#: The columns of a label file: required first, then optional provenance.
REQUIRED_COLUMNS = ("text", "issue", "stance")
OPTIONAL_COLUMNS = ("sentence_id", "article_id", "source", "date", "topic", "annotator")


@dataclass(frozen=True)
class LabelSchema:
    """Issues and stances of one label set.

    Parameters
    ----------
    issues : tuple of str
        The issue axes, in report order.
    favor, against, none : str
        The names the label files use for the three stance roles.
    """

    issues: tuple[str, ...]
    favor: str = "favor"
    against: str = "against"
    none: str = "none"

    def __post_init__(self) -> None:
        if not self.issues:
            raise ValueError("a label schema needs at least one issue")
        if len(set(self.issues)) != len(self.issues):
            raise ValueError(f"issues repeat: {list(self.issues)}")
        if len(set(self.stances)) != 3:
            raise ValueError(f"the three stances must differ: {list(self.stances)}")

    @classmethod
    def from_config(cls, data_cfg: Mapping) -> LabelSchema:
        """Build the schema from a plain data config (``issues`` and ``stances``)."""
        stances = data_cfg.get("stances") or {}
        return cls(
            issues=tuple(data_cfg["issues"]),
            favor=stances.get("favor", "favor"),
            against=stances.get("against", "against"),
            none=stances.get("none", "none"),
        )

    @property
    def stances(self) -> tuple[str, str, str]:
        """The stance names in a fixed order: favor, against, none."""
        return (self.favor, self.against, self.none)

    @staticmethod
    def proba_column(issue: str, stance: str) -> str:
        """Name of the probability column of one issue and stance, e.g. ``support_us.favor``."""
        return f"{issue}.{stance}"

    @property
    def proba_columns(self) -> list[str]:
        """Every probability column, issue by issue, in stance order."""
        return [self.proba_column(i, s) for i in self.issues for s in self.stances]
