"""The human side of a scoring run: the terminal table, plots and ``report.html``."""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from japan_stance.evaluate import issue_metric

MAX_HEATMAP_ROWS = 60
MAX_TABLE_ROWS = 40
MAX_HTML_ARTICLES = 300


def score_matrix(articles: pd.DataFrame, issues: Sequence[str]) -> pd.DataFrame:
    """Articles x issues matrix of signed scores, articles in input order."""
    order = pd.unique(articles["article_id"])
    return articles.pivot(index="article_id", columns="issue", values="score").reindex(index=order, columns=list(issues))


def format_score(score: float, low: float, high: float) -> str:
    """``+0.42 [+0.10, +0.61]``."""
    return f"{score:+.2f} [{low:+.2f}, {high:+.2f}]"


def summary_table(articles: pd.DataFrame, issues: Sequence[str]) -> pd.DataFrame:
    """Per article, each issue's score with its interval, as text; plus its sentence count."""
    cells = articles.assign(cell=[format_score(*v) for v in articles[["score", "ci_low", "ci_high"]].to_numpy()])
    table = cells.pivot(index="article_id", columns="issue", values="cell")
    table = table.reindex(index=pd.unique(articles["article_id"]), columns=list(issues))
    table["sentences"] = articles.groupby("article_id")["n_sentences"].first()
    return table


def terminal_table(articles: pd.DataFrame, issues: Sequence[str], limit: int = MAX_TABLE_ROWS) -> str:
    """The readable end of a run: one line per article (the first ``limit``)."""
    if articles.empty:
        return "no articles scored"
    table = summary_table(articles, issues)
    text = table.head(limit).to_string()
    more = len(table) - limit
    return text + (f"\n... and {more} more articles (see articles.csv)" if more > 0 else "")


def plot_heatmap(articles: pd.DataFrame, issues: Sequence[str], limit: int = MAX_HEATMAP_ROWS) -> Figure:
    """Signed score per article (rows) and issue (columns), red against, blue favor."""
    matrix = score_matrix(articles, issues).head(limit)
    fig = Figure(figsize=(2.2 + 1.6 * len(issues), 1.2 + 0.32 * len(matrix)), layout="constrained")
    ax = fig.add_subplot()
    image = ax.imshow(matrix.to_numpy(dtype=float), cmap="RdBu", vmin=-1, vmax=1, aspect="auto")
    ax.set_xticks(range(len(issues)), labels=list(issues), rotation=20, ha="right")
    ax.set_yticks(range(len(matrix)), labels=[str(a)[:48] for a in matrix.index])
    for (i, j), value in np.ndenumerate(matrix.to_numpy(dtype=float)):
        ax.text(j, i, f"{value:+.2f}", ha="center", va="center", fontsize=8)
    fig.colorbar(image, ax=ax, label="signed stance")
    ax.set_title("Japan's stance per article and issue")
    return fig


def plot_timeline(articles: pd.DataFrame, issues: Sequence[str]) -> Figure | None:
    """Mean score per issue over time (by month), where articles have dates; else None."""
    if "date" not in articles:
        return None
    dated = articles.assign(when=pd.to_datetime(articles["date"], errors="coerce")).dropna(subset=["when"])
    if dated.empty:
        return None
    fig = Figure(figsize=(7, 3.6), layout="constrained")
    ax = fig.add_subplot()
    for issue in issues:
        part = dated[dated["issue"] == issue].set_index("when")["score"].sort_index()
        monthly = part.resample("MS").mean().dropna()
        ax.plot(monthly.index, monthly.to_numpy(), marker="o", label=issue)
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.set_ylim(-1, 1)
    ax.set_ylabel("mean signed stance")
    ax.legend()
    ax.set_title("Japan's stance over time (monthly mean over articles)")
    return fig


def plot_runs(table: pd.DataFrame, issues: Sequence[str], metric: str) -> Figure:
    """Grouped bars: ``metric`` per run (x) for each issue and pooled."""
    issues_shown = [i for i in issues if issue_metric(metric, i) in table]
    columns = [issue_metric(metric, i) for i in issues_shown] + [metric]
    fig = Figure(figsize=(max(5, 1.2 * len(table) + 2), 4), layout="constrained")
    ax = fig.add_subplot()
    width = 0.8 / len(columns)
    x = np.arange(len(table))
    for k, (column, label) in enumerate(zip(columns, [*issues_shown, "pooled"], strict=True)):
        ax.bar(x + k * width, table[column].astype(float), width, label=label)
    labels = [f"{r}{' *' if c else ''}" for r, c in zip(table["run"], table["champion"])]
    ax.set_xticks(x + width * (len(columns) - 1) / 2, labels=labels, rotation=30, ha="right")
    ax.set_ylabel(metric)
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    ax.set_title(f"{metric} per run and issue (* champion)")
    return fig


def render_html(articles: pd.DataFrame, rejects: pd.DataFrame, issues: Sequence[str], images: Sequence[str], model: str) -> str:
    """A self-explanatory report page; ``images`` are PNG file names beside it.

    Tables show the first :data:`MAX_HTML_ARTICLES` articles; ``articles.csv`` has them all.
    """
    ids = pd.unique(articles["article_id"]) if len(articles) else []
    shown = articles[articles["article_id"].isin(ids[:MAX_HTML_ARTICLES])] if len(articles) else articles
    more = f"<p>First {MAX_HTML_ARTICLES} of {len(ids)} articles; all are in articles.csv.</p>" if len(ids) > MAX_HTML_ARTICLES else ""
    table = summary_table(shown, issues).to_html(classes="scores", border=0) if len(shown) else "<p>No articles scored.</p>"
    evidence = shown[["article_id", "issue", "evidence"]].to_html(index=False, border=0, classes="evidence")
    rejected = rejects.head(MAX_HTML_ARTICLES).to_html(index=False, border=0) if len(rejects) else "<p>None.</p>"
    pictures = "\n".join(f'<img src="{html.escape(name)}" alt="{html.escape(name)}">' for name in images)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>japan-stance report</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1100px}} table{{border-collapse:collapse;font-size:13px}}
td,th{{padding:3px 8px;border-bottom:1px solid #ddd;text-align:left}} img{{max-width:100%;margin:1em 0}}</style></head>
<body><h1>Japan's stance: {len(ids)} articles, {len(rejects)} rejected inputs</h1>
<p>Model: <code>{html.escape(model)}</code>. Score: mean over sentences of P(favor) &minus; P(against),
weighted by 1 &minus; P(none), in [&minus;1, 1]; brackets: 90% bootstrap interval over sentences.
The heatmap shows the first {MAX_HEATMAP_ROWS} articles.</p>
{pictures}
<h2>Scores</h2>{more}{table}
<h2>Evidence</h2>{evidence}
<h2>Rejected inputs</h2>{rejected}
</body></html>
"""
