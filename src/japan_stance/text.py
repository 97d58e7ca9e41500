"""Article text: extract it from HTML, clean it, split it into sentences.

Pure functions, no I/O. Real articles carry chat preambles, markdown tables,
citation marks, share/sign-in boilerplate, missing spaces after full stops and
repeated paragraphs; :func:`clean_article` removes or repairs them and returns
one paragraph per line. :func:`split_sentences` splits line by line with blingfire
and a small wrapper (chosen by measurement: ``BENCHMARKS.md``, sentence splitters), so a
heading, a list item or a flattened table row stays its own sentence.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from types import MappingProxyType

import blingfire
import trafilatura

#: How many leading non-empty lines may be a chat/LLM preamble.
PREAMBLE_LINES = 3
#: A chat/LLM preamble ("Okay, here's a draft article based on ...").
PREAMBLE_RE = re.compile(
    r"^(?:okay|ok|sure|certainly|absolutely|alright|of course|here\W?s|here is|below is)\b"
    r".*\b(?:article|draft|rewrite|rewritten|version|piece|story|text)\b",
    re.IGNORECASE,
)
#: A code fence (```html, or its mangled form “`html) at the end of a line.
FENCE_RE = re.compile(r"(?:```|``|[“”\"']`)[A-Za-z]*\s*$")
#: A line of separators only: |---|---|, a lone "|", "| |||||", "***", "---".
SEPARATOR_LINE_RE = re.compile(r"^[\s|:+=_*#~\-–—]*$")
#: A markdown table row: starts with a pipe and holds another one.
TABLE_ROW_RE = re.compile(r"^\s*\|.*\|")
#: Citation marks: [[2]], [3], [1, 4], [2-5].
CITATION_RE = re.compile(r"\s*\[\[?\d{1,3}(?:\s*[,–-]\s*\d{1,3})*\]?\]")
#: A list marker at the start of a line: "- ", "* ", "• ", "1) ", "2. ".
LIST_MARKER_RE = re.compile(r"^(?:[-*•·▪]|\d{1,2}[.)])\s+")
#: A whole line that is site furniture, not article text.
BOILERPLATE_LINE_RE = re.compile(
    r"^(?:share(?: this| this article| this story| on \w+)?|(?:share your thoughts|sign in"
    r"|log in|subscribe|leave a comment|leave a reply|follow us|click here|read more|also read)"
    r"\b.*|comments?(?: \(\d+\))?|exit mobile version|table of contents|contents"
    r"|article subheadings|in this article|advertisement|sponsored|print|email|tweet|copy link"
    r"|skip to (?:main )?content|back to top"
    r"|did you know\??|pro tip:?|fast facts:?|quick facts:?|editor'?s note:?)[.:!]?$",
    re.IGNORECASE,
)
#: A byline: "By Rieko Miki" (case-sensitive: capitalised names only).
BYLINE_RE = re.compile(r"^By [A-Z][\w.'’-]*(?: [A-Z][\w.'’-]*){0,3}$")
#: A phrase that marks its whole line as boilerplate wherever it occurs.
BOILERPLATE_PHRASE_RE = re.compile(
    r"(?:\b(?:this|the) (?:content|article|text) (?:is|was) (?:ai|auto|machine)[- ]generated"
    r"|\bshare this (?:article|story|post) with\b|\bsubscribe to our newsletter\b"
    r"|\bleave a comment below\b|\bwe hope this article\b|\bsign in to (?:join|comment)\b"
    r"|^as (?:the|a|an) [\w ]{0,40}(?:editor|writer|reporter|journalist) at\b)",
    re.IGNORECASE,
)
#: Boilerplate phrases are looked for in lines up to this long (sign-offs and author bios
#: are short; searching every long paragraph would cost more than the sentence splitter).
BOILERPLATE_MAX_CHARS = 600
#: A line after which nothing belongs to the article ("Related Articles").
END_MARKER_RE = re.compile(
    r"^(?:related (?:articles|posts|stories|news|coverage)|you (?:may|might) also like"
    r"|more from .{1,40}|recommended(?: for you| stories)?|read next|further reading)[:.]?$",
    re.IGNORECASE,
)
#: A word missing its space after a full stop, as in "governance.The"; group 1 is the
#: word and its stop. Not "U.S.", "e.g.", "2.5", "Japan.com", "pandas.DataFrame", "a.b.Cd".
MISSING_SPACE_RE = re.compile(
    r"(?<![\w.`/@<])([A-Za-z]?[a-z]+(?:-[a-z]+)*[.!?])(?=[A-Z][a-z]+\b(?![.(_`/)@]))"
)
#: What every missing-space match contains: a lower-case letter, a stop, a capital.
MISSING_SPACE_HINT_RE = re.compile(r"[a-z][.!?][A-Z]")
#: Where a space is missing after a comma: "Ukraine,but" (not "1,000").
MISSING_COMMA_SPACE_RE = re.compile(r"(?<=[A-Za-z0-9],)(?=[A-Za-z])")
#: Unusual quote marks mapped to the usual curly ones (read-only translation table).
QUOTE_MAP = MappingProxyType(
    str.maketrans({"„": "“", "‟": "“", "″": "”", "«": "“", "»": "”", "‚": "‘", "‛": "‘"})
)
#: Zero-width and byte-order characters to delete.
INVISIBLE_RE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
#: A paragraph at least this long that starts a later one is a repeat of it.
REPEAT_PREFIX_MIN = 100
#: Ends of pieces that never end a sentence: a title ("Gov.", "Mr.") or a semicolon
#: (a splitter that cuts "a; B" would cut a flattened table row "a; B; C").
NO_SENTENCE_END_RE = re.compile(
    r"(?:\b(?:Mr|Mrs|Ms|Dr|Prof|Gov|Sen|Rep|Gen|Lt|Col|Maj|Capt|Sgt|Adm|Cmdr|Amb|Rev|Hon|"
    r"Pres|Supt|St)\.|;)$"
)
#: A sentence needs at least one letter or digit.
WORD_CHAR_RE = re.compile(r"\w")


def normalize_line(line: str) -> str:
    """Normalise Unicode, quotes and whitespace of one line.

    Parameters
    ----------
    line : str
        One line of text.

    Returns
    -------
    str
        NFKC-normalised, odd quote marks mapped to curly ones, zero-width
        characters removed, whitespace runs collapsed to one space, stripped.
    """
    line = unicodedata.normalize("NFKC", line).translate(QUOTE_MAP)
    return " ".join(INVISIBLE_RE.sub("", line).split())


def fix_missing_spaces(line: str) -> str:
    """Insert the space missing after a full stop or a comma.

    Parameters
    ----------
    line : str
        One line of text.

    Returns
    -------
    str
        ``"governance.The"`` becomes ``"governance. The"`` and ``"Ukraine,but"``
        becomes ``"Ukraine, but"``; ``"U.S."``, ``"e.g."``, ``"2.5"``, ``"1,000"``
        and ``"Japan.com"`` are left alone.
    """
    if MISSING_SPACE_HINT_RE.search(line):  # cheap guard: the full pattern is slow on long lines
        line = MISSING_SPACE_RE.sub(r"\1 ", line)
    return MISSING_COMMA_SPACE_RE.sub(" ", line)


def flatten_table_row(line: str) -> str:
    """Turn a markdown table row into its cells joined by ``"; "``.

    Parameters
    ----------
    line : str
        A line such as ``"| a | b | c | |||||"``.

    Returns
    -------
    str
        ``"a; b; c"``: empty cells are dropped.
    """
    cells = (cell.strip() for cell in line.split("|"))
    return "; ".join(cell for cell in cells if cell)


def drop_preamble(lines: list[str]) -> list[str]:
    """Drop chat/LLM preamble lines among the first :data:`PREAMBLE_LINES` lines.

    Parameters
    ----------
    lines : list of str
        Normalised, non-empty lines.

    Returns
    -------
    list of str
        The lines without the preamble ones.
    """
    head = [line for line in lines[:PREAMBLE_LINES] if not PREAMBLE_RE.search(line)]
    return head + lines[PREAMBLE_LINES:]


def truncate_at_end_marker(lines: list[str]) -> list[str]:
    """Keep the lines before the first end marker such as ``"Related Articles"``.

    Parameters
    ----------
    lines : list of str
        Normalised lines.

    Returns
    -------
    list of str
        The lines before the first one matching :data:`END_MARKER_RE`.
    """
    for index, line in enumerate(lines):
        if END_MARKER_RE.match(line):
            return lines[:index]
    return lines


def is_boilerplate(line: str) -> bool:
    """Whether a normalised line is site furniture rather than article text.

    Parameters
    ----------
    line : str
        One normalised line.

    Returns
    -------
    bool
        True for separator lines, share/sign-in/subscribe lines, box headers,
        bylines and AI-generated disclaimers.
    """
    return bool(
        SEPARATOR_LINE_RE.match(line)
        or BOILERPLATE_LINE_RE.match(line)
        or BYLINE_RE.match(line)
        or (len(line) <= BOILERPLATE_MAX_CHARS and BOILERPLATE_PHRASE_RE.search(line))
    )


def clean_line(line: str) -> str:
    """Repair one normalised line: fences, citations, table rows, list markers, spaces.

    Parameters
    ----------
    line : str
        One normalised line.

    Returns
    -------
    str
        The repaired line, possibly empty.
    """
    line = FENCE_RE.sub("", line)
    line = CITATION_RE.sub("", line)
    if TABLE_ROW_RE.match(line):
        line = flatten_table_row(line)
    line = LIST_MARKER_RE.sub("", line)
    return normalize_line(fix_missing_spaces(line))


def drop_repeats(paragraphs: Iterable[str]) -> list[str]:
    """Drop exact repeats of earlier paragraphs, and a repeated long prefix.

    Parameters
    ----------
    paragraphs : iterable of str
        Cleaned paragraphs, in order.

    Returns
    -------
    list of str
        Each paragraph once. A paragraph that starts with an earlier paragraph
        of at least :data:`REPEAT_PREFIX_MIN` characters keeps only the rest.
    """
    kept: list[str] = []
    for paragraph in paragraphs:
        for earlier in kept:
            if len(earlier) >= REPEAT_PREFIX_MIN and paragraph.startswith(earlier):
                paragraph = paragraph[len(earlier) :].strip()
        if paragraph and paragraph not in kept:
            kept.append(paragraph)
    return kept


def clean_article(text: str) -> str:
    """Clean an article's text, one paragraph per line.

    Parameters
    ----------
    text : str
        Raw article text, one paragraph per line (blank lines are ignored).

    Returns
    -------
    str
        The article without chat preambles, code fences, table separators,
        boilerplate lines, citation marks or repeated paragraphs; table rows
        flattened to ``"a; b; c"``; missing spaces after full stops inserted;
        whitespace and odd quote marks normalised.
    """
    lines = [normalize_line(line) for line in text.splitlines()]
    lines = truncate_at_end_marker(drop_preamble([line for line in lines if line]))
    cleaned = (clean_line(line) for line in lines if not is_boilerplate(line))
    return "\n".join(drop_repeats(line for line in cleaned if line and not is_boilerplate(line)))


def html_to_text(html: str) -> str:
    """Extract an HTML page's main text with trafilatura, without any network access.

    Parameters
    ----------
    html : str
        The page's HTML.

    Returns
    -------
    str
        The main text, one paragraph per line (tables as ``| a | b |`` rows),
        comments excluded; ``""`` when no main text is found.
    """
    if not html.strip():
        return ""
    text = trafilatura.extract(
        html, include_comments=False, include_tables=True, output_format="txt"
    )
    return text or ""


def merge_fragments(sentences: list[str]) -> list[str]:
    """Undo a split right after a title (``"Gov."``, ``"Mr."``) or a semicolon.

    Parameters
    ----------
    sentences : list of str
        Sentences of one line, in order.

    Returns
    -------
    list of str
        The sentences, each one matching :data:`NO_SENTENCE_END_RE` joined to the next.
    """
    merged: list[str] = []
    for sentence in sentences:
        if merged and NO_SENTENCE_END_RE.search(merged[-1]):
            merged[-1] = f"{merged[-1]} {sentence}"
        else:
            merged.append(sentence)
    return merged


def split_line(line: str) -> list[str]:
    """Split one line into sentences with blingfire, then rejoin after titles and semicolons.

    Parameters
    ----------
    line : str
        One line (a paragraph, heading, list item or table row).

    Returns
    -------
    list of str
        Its sentences, whitespace-normalised; punctuation-only pieces dropped.
    """
    pieces = blingfire.text_to_sentences(line).split("\n")
    sentences = [" ".join(piece.split()) for piece in pieces]
    return merge_fragments([s for s in sentences if WORD_CHAR_RE.search(s)])


def split_sentences(text: str) -> list[str]:
    """Split text into sentences, line by line.

    Parameters
    ----------
    text : str
        Text, one paragraph per line; a heading or list item on its own line
        stays its own sentence.

    Returns
    -------
    list of str
        Non-empty, whitespace-normalised sentences, in order; a piece with no
        letter or digit is dropped.
    """
    return [sentence for line in text.splitlines() if line.strip() for sentence in split_line(line)]


def article_sentences(text: str, is_html: bool = False) -> list[str]:
    """Turn an article into clean sentences.

    Parameters
    ----------
    text : str
        The article: plain text, or HTML when ``is_html``.
    is_html : bool, default False
        Extract the main text with :func:`html_to_text` first.

    Returns
    -------
    list of str
        :func:`split_sentences` of :func:`clean_article` of the text.
    """
    if is_html:
        text = html_to_text(text)
    return split_sentences(clean_article(text))
