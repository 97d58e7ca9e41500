"""Compare sentence splitters on hard cases and on speed, on one core.

Each splitter is run line by line, as :func:`japan_stance.text.split_sentences`
does. A case is right when the output equals the expected list exactly (after
whitespace normalisation). "right, cleaned" first applies the missing-space fix of
:func:`japan_stance.text.fix_missing_spaces`, as the pipeline does. Speed is
sentences per second over about 1 MB of the sample articles' cleaned text,
repeated. Splitters that are not installed are skipped.

Usage::

    .venv/bin/python benchmarks/splitters.py [--mb 1.0] [--show-misses]
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from pathlib import Path

from japan_stance.text import clean_article, fix_missing_spaces, merge_fragments, split_sentences

ARTICLES = Path(__file__).resolve().parents[1] / "data" / "articles"

# (input line, expected sentences). From the sample articles and the usual traps.
CASES: list[tuple[str, list[str]]] = [
    ("The U.S.-Japan alliance is strong. Tokyo agrees.",
     ["The U.S.-Japan alliance is strong.", "Tokyo agrees."]),
    ("Dr. Tanaka said so. He left.", ["Dr. Tanaka said so.", "He left."]),
    ("It began on Jan. 6 in Tokyo. Then it ended.",
     ["It began on Jan. 6 in Tokyo.", "Then it ended."]),
    ("Tokyo – Japan is prepared to explore guarantees, Prime Minister Fumio Kishida announced. "
     "This potential commitment marks a shift.",
     ["Tokyo – Japan is prepared to explore guarantees, Prime Minister Fumio Kishida announced.",
      "This potential commitment marks a shift."]),
    ("Japan ranks No. 1 in aid. Others follow.", ["Japan ranks No. 1 in aid.", "Others follow."]),
    ("The talks ended at 3 p.m. on Monday. A statement followed.",
     ["The talks ended at 3 p.m. on Monday.", "A statement followed."]),
    ("The talks ended at 3 p.m. Tanaka then left.",
     ["The talks ended at 3 p.m.", "Tanaka then left."]),
    ("Reuters reported that the objectives include restoring democratic governance.The "
     "legitimacy of the Venezuelan government has been questioned.",
     ["Reuters reported that the objectives include restoring democratic governance.",
      "The legitimacy of the Venezuelan government has been questioned."]),
    ("Military force can only be used for self-defense.However, the landscape is changing.",
     ["Military force can only be used for self-defense.",
      "However, the landscape is changing."]),
    ("Japan “urges all parties to exercise restraint and seek a peaceful resolution through "
     "dialog.” The official statement emphasizes international law.",
     ["Japan “urges all parties to exercise restraint and seek a peaceful resolution through "
      "dialog.”", "The official statement emphasizes international law."]),
    ("Akiyama affirmed, “There is no Plan B for Japan other than the U.S.” This belief is "
     "widely shared.",
     ["Akiyama affirmed, “There is no Plan B for Japan other than the U.S.”",
      "This belief is widely shared."]),
    ("“Japan is walking a tightrope,” says Dr.",
     ["“Japan is walking a tightrope,” says Dr."]),
    ("The alliance would \"collapse.\" The statement was made in Tokyo.",
     ["The alliance would \"collapse.\"", "The statement was made in Tokyo."]),
    ("He said it was “unacceptable”. Tokyo protested.",
     ["He said it was “unacceptable”.", "Tokyo protested."]),
    ("Japan aims to allocate 2.5% of GDP by 2027. That is new.",
     ["Japan aims to allocate 2.5% of GDP by 2027.", "That is new."]),
    ("Sen. Smith and Gov. Abbott met the envoy. They spoke about China.",
     ["Sen. Smith and Gov. Abbott met the envoy.", "They spoke about China."]),
    ("Ms. Takaichi warned. Mr. Ishiba agreed.", ["Ms. Takaichi warned.", "Mr. Ishiba agreed."]),
    ("Toyota Motor Corp. said no. Sony Group Inc. agreed.",
     ["Toyota Motor Corp. said no.", "Sony Group Inc. agreed."]),
    ("About approx. 50 ships came. Some left.", ["About approx. 50 ships came.", "Some left."]),
    ("The flight left at 10 a.m. Tokyo time on Friday.",
     ["The flight left at 10 a.m. Tokyo time on Friday."]),
    ("She wasn't just discussing foreign policy—she was drawing a line. It mattered.",
     ["She wasn't just discussing foreign policy—she was drawing a line.", "It mattered."]),
    ("Japanese PM Takaichi warns the alliance would collapse. What does this mean for regional "
     "security?",
     ["Japanese PM Takaichi warns the alliance would collapse.",
      "What does this mean for regional security?"]),
    ("Can Japan legally send troops to Ukraine? Due to its constitution, Japan cannot deploy "
     "troops.",
     ["Can Japan legally send troops to Ukraine?",
      "Due to its constitution, Japan cannot deploy troops."]),
    ("Question: What factors are influencing Japan’s defense strategy?",
     ["Question: What factors are influencing Japan’s defense strategy?"]),
    ("1 President Trump expresses concerns over the U.S.-Japan security alliance’s structure.",
     ["1 President Trump expresses concerns over the U.S.-Japan security alliance’s structure."]),
    ("The U.N. Security Council met. Japan spoke.",
     ["The U.N. Security Council met.", "Japan spoke."]),
    ("There is no Plan B. Dr. Tanaka agrees.", ["There is no Plan B.", "Dr. Tanaka agrees."]),
    ("He moved to the U.S. Japan objected.", ["He moved to the U.S.", "Japan objected."]),
    ("He affirmed France’s willingness to respond. these varied responses highlight the "
     "considerations.",
     ["He affirmed France’s willingness to respond.",
      "these varied responses highlight the considerations."]),
    ("August 19, 2025; Prime Minister Kishida announces Japan’s consideration of guarantees.",
     ["August 19, 2025; Prime Minister Kishida announces Japan’s consideration of guarantees."]),
    ("International Dialogue Forums; Bridge political divide; Q3 – Q4 2024",
     ["International Dialogue Forums; Bridge political divide; Q3 – Q4 2024"]),
    ("This move is not merely symbolic; Tokyo wants to be a credible mediator.",
     ["This move is not merely symbolic; Tokyo wants to be a credible mediator."]),
]


def syntok_plain(line: str) -> list[str]:
    """syntok as its README shows it: join each sentence's tokens."""
    from syntok import segmenter

    return [
        "".join(str(token) for token in sentence).strip()
        for paragraph in segmenter.process(line)
        for sentence in paragraph
    ]


def syntok_wrapped(line: str) -> list[str]:
    """syntok sliced from the line by token offsets (keeps "wasn't"), with the same wrapper."""
    from syntok import segmenter
    from syntok.tokenizer import Tokenizer

    tokens = Tokenizer(replace_not_contraction=False).tokenize(line)
    starts = [sentence[0].offset for sentence in segmenter.split(tokens) if sentence]
    pieces = [line[a:b] for a, b in zip(starts, [*starts[1:], len(line)])]
    return merge_fragments([" ".join(p.split()) for p in pieces if p.strip()])


def blingfire_split(line: str) -> list[str]:
    """blingfire's text_to_sentences, one sentence per output line."""
    import blingfire

    return blingfire.text_to_sentences(line).split("\n")


def make_pysbd() -> Callable[[str], list[str]]:
    """pysbd's English segmenter, built once."""
    import pysbd

    segmenter = pysbd.Segmenter(language="en", clean=False)
    return segmenter.segment


def available_splitters() -> dict[str, Callable[[str], list[str]]]:
    """The splitters whose libraries import, by display name."""
    splitters: dict[str, Callable[[str], list[str]]] = {}
    for name, build in [
        ("syntok (plain)", lambda: syntok_plain),
        ("syntok + wrapper", lambda: syntok_wrapped),
        ("blingfire", lambda: blingfire_split),
        ("blingfire + wrapper (split_sentences)", lambda: split_sentences),
        ("pysbd", make_pysbd),
    ]:
        try:
            splitter = build()
            splitter("Probe. Probe.")
        except ImportError:
            continue
        splitters[name] = splitter
    return splitters


def by_line(splitter: Callable[[str], list[str]], text: str) -> list[str]:
    """Apply a splitter line by line; normalise whitespace; drop empty pieces."""
    pieces = (piece for line in text.splitlines() if line.strip() for piece in splitter(line))
    return [" ".join(piece.split()) for piece in pieces if piece.strip()]


def misses(splitter: Callable[[str], list[str]], fix: bool) -> list[tuple[str, list[str]]]:
    """The cases a splitter gets wrong, with what it returned."""
    wrong = []
    for line, expected in CASES:
        got = by_line(splitter, fix_missing_spaces(line) if fix else line)
        if got != expected:
            wrong.append((line, got))
    return wrong


def corpus(megabytes: float) -> str:
    """The sample articles, cleaned, repeated to about ``megabytes`` MB."""
    paths = sorted(ARTICLES.glob("*.txt"))
    text = "\n".join(clean_article(path.read_text(encoding="utf-8")) for path in paths)
    repeats = max(1, round(megabytes * 1_000_000 / len(text.encode("utf-8"))))
    return "\n".join([text] * repeats)


def speed(splitter: Callable[[str], list[str]], text: str, repeat: int) -> tuple[int, float]:
    """Sentences produced and the best of ``repeat`` timings (seconds) for the whole text."""
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        sentences = by_line(splitter, text)
        timings.append(time.perf_counter() - start)
    return len(sentences), min(timings)


def main() -> None:
    """Print the comparison table (markdown)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=1.0, help="corpus size in MB")
    parser.add_argument("--repeat", type=int, default=3, help="timings per splitter; best kept")
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    text = corpus(args.mb)
    size = len(text.encode("utf-8")) / 1e6
    print(f"{len(CASES)} hard cases; {size:.2f} MB; one core; best of {args.repeat}\n")
    print("| splitter | right (raw) | right (cleaned) | sentences | seconds | sentences/s |")
    print("|---|---|---|---|---|---|")
    for name, splitter in available_splitters().items():
        raw, cleaned = misses(splitter, fix=False), misses(splitter, fix=True)
        count, seconds = speed(splitter, text, args.repeat)
        print(f"| {name} | {len(CASES) - len(raw)}/{len(CASES)} | {len(CASES) - len(cleaned)}"
              f"/{len(CASES)} | {count} | {seconds:.2f} | {count / seconds:,.0f} |")
        if args.show_misses:
            for line, got in cleaned:
                print(f"|   miss | {line!r} -> {got!r} | | | | |")


if __name__ == "__main__":
    main()
