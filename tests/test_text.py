"""Tests for japan_stance.text: cleaning, HTML extraction, sentence splitting."""

from __future__ import annotations

from pathlib import Path

import pytest

from japan_stance.text import (
    article_sentences,
    clean_article,
    fix_missing_spaces,
    html_to_text,
    split_sentences,
)

ARTICLES = Path(__file__).resolve().parents[1] / "data" / "articles"
SAMPLES = sorted(ARTICLES.glob("*.txt"))
BODY = "Japan urged all parties to exercise restraint."

# --- clean_article -------------------------------------------------------------------------


def test_chat_preamble_and_fence_are_dropped():
    text = (
        "Okay, here's a draft article based on the provided text. Please review carefully.“`html\n"
        "Geopolitical Tightrope for Tokyo\n"
        f"{BODY}\n"
        "```\n"
    )
    assert clean_article(text).splitlines() == ["Geopolitical Tightrope for Tokyo", BODY]


def test_preamble_is_only_looked_for_on_the_first_lines():
    text = "\n".join([BODY, "Tokyo acted.", "Seoul waited.", "Okay, here is the article text."])
    assert clean_article(text).splitlines()[-1] == "Okay, here is the article text."


def test_table_separators_and_pipe_only_lines_are_dropped():
    text = f"| Date | Event |\n|---|---|\n| :--- | ---: |\n|\n| |||||\n---\n{BODY}"
    assert clean_article(text).splitlines() == ["Date; Event", BODY]


@pytest.mark.parametrize(
    ("row", "flat"),
    [
        ("| Date | Event |", "Date; Event"),
        ("| Recent | Germany debates its role. |", "Recent; Germany debates its role."),
        (
            "| Economic Support | Targeted investments, humanitarian aid | Revitalized economies "
            "| |||||||||||||||||||",
            "Economic Support; Targeted investments, humanitarian aid; Revitalized economies",
        ),
    ],
)
def test_table_row_is_flattened(row, flat):
    assert clean_article(row) == flat


@pytest.mark.parametrize(
    ("line", "clean"),
    [
        ("regarding the deployment of German troops [[2]]. Norbert Röttgen agreed.",
         "regarding the deployment of German troops. Norbert Röttgen agreed."),
        ("Japan objected [3] and Seoul agreed [1, 4].", "Japan objected and Seoul agreed."),
        ("Article [[12]] of the pact", "Article of the pact"),
    ],
)
def test_citation_marks_are_removed(line, clean):
    assert clean_article(line) == clean


@pytest.mark.parametrize(
    "line",
    [
        "Share this article",
        "Share.",
        "Share your thoughts on this article",
        "Sign in to join the conversation",
        "Exit mobile version",
        "Table of Contents",
        "Subscribe to our newsletter",
        "Leave a comment",
        "Did You Know?",
        "Pro Tip:",
        "By Rieko Miki",
        "This content is AI-generated based on source articles. While we strive for accuracy, "
        "errors may occur.",
        "We hope this article provided valuable insight. Please share this article with your "
        "network, leave a comment below, and subscribe to our newsletter.",
        "As the News Editor at News Journos, I am dedicated to curating the latest stories.",
    ],
)
def test_boilerplate_line_is_dropped(line):
    assert clean_article(f"{BODY}\n{line}\nTokyo agreed.").splitlines() == [BODY, "Tokyo agreed."]


@pytest.mark.parametrize(
    "line",
    [
        "Subscribers to the plan rose sharply.",
        "Sure enough, Tokyo objected.",
        "By 2027 Japan will spend 2% of GDP on defense.",
        "Sharing intelligence with Seoul remains difficult.",
        "Printing money is not a defense policy.",
    ],
)
def test_ordinary_line_is_kept(line):
    assert clean_article(f"{line}\n{BODY}").splitlines() == [line, BODY]


def test_everything_after_related_articles_is_dropped():
    text = f"{BODY}\nRelated Articles\nGold reaches record highs as Bitcoin struggles.\nThoughts"
    assert clean_article(text) == BODY


def test_box_header_is_dropped_but_its_content_kept():
    text = "Did You Know?\nJapan’s Self-Defense Forces have been deployed on many missions."
    assert clean_article(text) == "Japan’s Self-Defense Forces have been deployed on many missions."


@pytest.mark.parametrize(
    ("line", "fixed"),
    [
        ("restoring democratic governance.The legitimacy",
         "restoring democratic governance. The legitimacy"),
        ("used for self-defense.However, the", "used for self-defense. However, the"),
        ("supportive of Ukraine,but there", "supportive of Ukraine, but there"),
        ("is established,Prime Minister", "is established, Prime Minister"),
        ("the U.S.-Japan alliance and the U.S. Navy", "the U.S.-Japan alliance and the U.S. Navy"),
        ("e.g. the E.U. and the U.N.", "e.g. the E.U. and the U.N."),
        ("grew 2.5 percent to 1,000 ships", "grew 2.5 percent to 1,000 ships"),
        ("see Japan.com or www.mofa.go.jp", "see Japan.com or www.mofa.go.jp"),
        ("a pandas.DataFrame object", "a pandas.DataFrame object"),
    ],
)
def test_missing_space_is_inserted_but_abbreviations_untouched(line, fixed):
    assert fix_missing_spaces(line) == fixed
    assert clean_article(line) == fixed


def test_repeated_paragraph_is_dropped():
    long = "Tokyo’s expanding diplomatic initiatives reveal a nuanced strategy. " * 3
    text = f"{long}\n{BODY}\n{long}\n{BODY}"
    assert clean_article(text).splitlines() == [long.strip(), BODY]


def test_paragraph_repeating_an_earlier_one_keeps_only_its_new_part():
    long = "Tokyo’s expanding diplomatic initiatives reveal a nuanced strategy. " * 3
    text = f"{long}\n{long} Key factors include:"
    assert clean_article(text).splitlines() == [long.strip(), "Key factors include:"]


def test_whitespace_and_quotes_are_normalised():
    text = "  Japan\u00a0 said\u200b «no.»  \n\n\n\tTokyo   agreed. „Yes“ "
    assert clean_article(text) == "Japan said “no.”\nTokyo agreed. “Yes“"


def test_list_markers_are_stripped():
    text = "- Enhanced Collaboration: working with the UN.\n2) Humanitarian Support: aid."
    assert clean_article(text).splitlines() == [
        "Enhanced Collaboration: working with the UN.",
        "Humanitarian Support: aid.",
    ]


def test_clean_article_of_empty_text_is_empty():
    assert clean_article("") == ""
    assert clean_article("\n |---| \nShare\n") == ""


# --- split_sentences -----------------------------------------------------------------------

HARD_CASES = [
    ("The U.S.-Japan alliance is strong. Tokyo agrees.",
     ["The U.S.-Japan alliance is strong.", "Tokyo agrees."]),
    ("Dr. Tanaka said so. He left.", ["Dr. Tanaka said so.", "He left."]),
    ("It began on Jan. 6 in Tokyo. Then it ended.",
     ["It began on Jan. 6 in Tokyo.", "Then it ended."]),
    ("Japan is ready to act, Prime Minister Fumio Kishida announced. This marks a shift.",
     ["Japan is ready to act, Prime Minister Fumio Kishida announced.", "This marks a shift."]),
    ("Japan ranks No. 1 in aid. Others follow.", ["Japan ranks No. 1 in aid.", "Others follow."]),
    ("The talks ended at 3 p.m. on Monday. A statement followed.",
     ["The talks ended at 3 p.m. on Monday.", "A statement followed."]),
    ("The talks ended at 3 p.m. The statement followed.",
     ["The talks ended at 3 p.m.", "The statement followed."]),
    ("The flight left at 10 a.m. Tokyo time on Friday.",
     ["The flight left at 10 a.m. Tokyo time on Friday."]),
    ("Japan “urges all parties to exercise restraint and seek a peaceful resolution through "
     "dialog.” The official statement emphasizes law.",
     ["Japan “urges all parties to exercise restraint and seek a peaceful resolution through "
      "dialog.”", "The official statement emphasizes law."]),
    ("Akiyama said, “There is no Plan B for Japan other than the U.S.” This belief is shared.",
     ["Akiyama said, “There is no Plan B for Japan other than the U.S.”",
      "This belief is shared."]),
    ("“Japan is walking a tightrope,” says Dr.", ["“Japan is walking a tightrope,” says Dr."]),
    ('The alliance would "collapse." The statement was made in Tokyo.',
     ['The alliance would "collapse."', "The statement was made in Tokyo."]),
    ("He said it was “unacceptable”. Tokyo protested.",
     ["He said it was “unacceptable”.", "Tokyo protested."]),
    ("Japan aims to allocate 2.5% of GDP by 2027. That is new.",
     ["Japan aims to allocate 2.5% of GDP by 2027.", "That is new."]),
    ("Sen. Smith and Gov. Abbott met the envoy. They spoke about China.",
     ["Sen. Smith and Gov. Abbott met the envoy.", "They spoke about China."]),
    ("Ms. Takaichi warned. Mr. Ishiba agreed.", ["Ms. Takaichi warned.", "Mr. Ishiba agreed."]),
    ("She wasn't just discussing foreign policy—she was drawing a line. It mattered.",
     ["She wasn't just discussing foreign policy—she was drawing a line.", "It mattered."]),
    ("Can Japan legally send troops to Ukraine? Due to its constitution, it cannot.",
     ["Can Japan legally send troops to Ukraine?", "Due to its constitution, it cannot."]),
    ("The U.N. Security Council met. Japan spoke.",
     ["The U.N. Security Council met.", "Japan spoke."]),
    ("August 19, 2025; Prime Minister Kishida announces Japan’s consideration of guarantees.",
     ["August 19, 2025; Prime Minister Kishida announces Japan’s consideration of guarantees."]),
    ("International Dialogue Forums; Bridge political divide; Q3 – Q4 2024",
     ["International Dialogue Forums; Bridge political divide; Q3 – Q4 2024"]),
    ("Rising Tensions with China: A Growing Threat?\nJapan’s landscape is complicated.",
     ["Rising Tensions with China: A Growing Threat?", "Japan’s landscape is complicated."]),
    ("Key Developments & Timeline\nDate; Event", ["Key Developments & Timeline", "Date; Event"]),
    ("Japan  acted.\n\n   \nTokyo\tagreed.  ", ["Japan acted.", "Tokyo agreed."]),
    # blingfire keeps a trailing ellipsis on its sentence; punctuation-only lines are dropped
    ("Japan acted. …\n” .\n- - -", ["Japan acted. …"]),
]

# A missing space after a full stop is repaired by cleaning, before splitting.
MISSING_SPACE_CASES = [
    ("restoring democratic governance.The legitimacy was questioned.",
     ["restoring democratic governance.", "The legitimacy was questioned."]),
    ("used for self-defense.However, the landscape changed.",
     ["used for self-defense.", "However, the landscape changed."]),
]


@pytest.mark.parametrize(("text", "expected"), MISSING_SPACE_CASES)
def test_article_sentences_split_at_a_missing_space(text, expected):
    assert article_sentences(text) == expected


# Known limits of the splitter, measured in BENCHMARKS.md: these stay one sentence. The test
# pins the behaviour down, so a change of splitter that fixes (or worsens) them shows up.
KNOWN_LIMITS = [
    "The talks ended at 3 p.m. Tanaka then left.",
    "There is no Plan B. Dr. Tanaka agrees.",
    "Toyota Motor Corp. said no. Sony Group Inc. agreed.",
]


@pytest.mark.parametrize(("text", "expected"), HARD_CASES)
def test_split_sentences_hard_case(text, expected):
    assert split_sentences(text) == expected


@pytest.mark.parametrize("text", KNOWN_LIMITS)
def test_split_sentences_known_limit_stays_one_sentence(text):
    assert split_sentences(text) == [text]


def test_split_sentences_of_empty_text_is_empty():
    assert split_sentences("") == []
    assert split_sentences("\n \n") == []


# --- html_to_text --------------------------------------------------------------------------

PARAGRAPHS = [
    "Japan's Foreign Ministry said on Tuesday that it is closely monitoring the situation in "
    "Venezuela and urged all parties to exercise restraint.",
    "Officials in Tokyo stressed the importance of international law and national sovereignty, "
    "while stopping short of criticising the United States.",
    "Analysts said the careful wording reflects Japan's effort to balance its alliance with "
    "Washington against its commitment to the rule of law.",
]
PAGE = f"""<!DOCTYPE html>
<html><head><title>Japan urges restraint | Example News</title></head><body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/world">World news</a></li>
<li><a href="/login">Sign in</a></li><li><a href="/subscribe">Subscribe today</a></li></ul></nav>
<main><article><h1>Japan urges restraint over Venezuela</h1>
<p>{PARAGRAPHS[0]}</p><p>{PARAGRAPHS[1]}</p><p>{PARAGRAPHS[2]}</p></article></main>
<footer><p>Copyright 2026 Example News. All rights reserved.</p>
<a href="/privacy">Privacy policy</a> <a href="/cookies">Cookie settings</a></footer>
</body></html>"""


def test_html_to_text_keeps_the_article_and_drops_nav_and_footer():
    text = html_to_text(PAGE)
    for paragraph in PARAGRAPHS:
        assert paragraph in text.splitlines()
    for furniture in ("World news", "Sign in", "Subscribe today", "Copyright", "Privacy policy"):
        assert furniture not in text


def test_html_to_text_of_an_empty_page_is_empty():
    assert html_to_text("") == ""
    assert html_to_text("<html><body></body></html>") == ""


def test_article_sentences_from_html():
    sentences = article_sentences(PAGE, is_html=True)
    assert sentences[-3:] == PARAGRAPHS
    assert not any("Privacy" in sentence or "Sign in" in sentence for sentence in sentences)


# --- article_sentences on the sample articles ----------------------------------------------


@pytest.fixture(scope="module")
def sample_sentences() -> dict[str, list[str]]:
    return {path.stem: article_sentences(path.read_text(encoding="utf-8")) for path in SAMPLES}


def test_there_are_five_samples(sample_sentences):
    assert len(sample_sentences) == 5


@pytest.mark.parametrize("name", [path.stem for path in SAMPLES])
def test_sample_sentences_are_clean(sample_sentences, name):
    sentences = sample_sentences[name]
    assert len(sentences) >= 20
    assert len(set(sentences)) == len(sentences)
    for sentence in sentences:
        assert sentence == " ".join(sentence.split()) and sentence
        assert "|" not in sentence and "[[" not in sentence and "`" not in sentence
        assert not sentence.lower().startswith(("share", "sign in", "exit mobile", "okay,"))
        assert "AI-generated" not in sentence and "subscribe" not in sentence.lower()


def test_venezuela_tightrope_sample(sample_sentences):
    sentences = sample_sentences["venezuela_alliance_tightrope"]
    quote = [s for s in sentences if "urges all parties to exercise restraint" in s]
    assert quote == [
        "according to a statement released by the Ministry of Foreign Affairs on January 6,2026, "
        "Japan “is closely monitoring the situation in Venezuela and urges all parties to "
        "exercise restraint and seek a peaceful resolution through dialog.”"
    ]
    assert sentences[0] == "Geopolitical Tightrope for Tokyo"
    assert "Reuters reported that the stated objectives include stabilizing the region, " \
           "protecting US citizens, and restoring democratic governance." in sentences
    assert "Table of Contents" not in sentences and "By Rieko Miki" not in sentences
    assert sentences[-1] == "“Japan is walking a tightrope,” says Dr."


def test_alliance_sample(sample_sentences):
    sentences = sample_sentences["alliance_no_plan_b"]
    assert "In an interview, Takuya Akiyama, Principal Deputy Director of North American Affairs " \
           "Bureau at Japan’s Ministry of Foreign Affairs, affirmed, “There is no Plan B for " \
           "Japan other than the U.S.”" in sentences
    assert "Share." not in sentences and "Exit mobile version" not in sentences
    assert not any("News Journos" in sentence for sentence in sentences)
    assert sentences[-1].startswith("Japan is increasing its defense spending")


def test_taiwan_sample(sample_sentences):
    sentences = sample_sentences["taiwan_alliance_warning"]
    assert sentences[0] == "Japan's Taiwan Gambit: Alliance or Abandonment?"
    assert not any("Bitcoin" in sentence or "Thoughts" == sentence for sentence in sentences)
    assert sentences[-1].startswith("If Japan is expected to risk everything")


def test_ukraine_sample(sample_sentences):
    sentences = sample_sentences["ukraine_security_guarantees"]
    assert "Japan’s constitution mandates that military force can only be used for " \
           "self-defense." in sentences
    assert any(sentence.startswith("However, the nation’s evolving") for sentence in sentences)
    assert "Date; Event" in sentences
    assert "Recent; Germany debates its role in providing security guarantees to Ukraine." \
        in sentences
    assert any(s.endswith("deployment of German troops.") for s in sentences)
    assert "Did You Know?" not in sentences and "Pro Tip:" not in sentences


def test_democracy_sample_drops_the_repeated_paragraph(sample_sentences):
    sentences = sample_sentences["venezuela_democracy_diplomacy"]
    repeated = [s for s in sentences if s.startswith("Tokyo’s expanding diplomatic initiatives")]
    assert len(repeated) == 1
    assert sentences.count("Key factors driving Tokyo’s involvement include:") == 1
    assert "Diplomatic Engagement; Multilateral talks, collaborative frameworks; Stabilization " \
           "of Venezuela’s political environment" in sentences
