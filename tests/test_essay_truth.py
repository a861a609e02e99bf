"""The essay coach tells the truth about itself (issue 14, item 5): each criterion's "yes"/"no"
agrees with its own evidence, its generated sentences have no grammar slips or joined words, the
band rests on argument, judgement and accuracy rather than length, and factual errors are listed
with the student's sentence quoted and the correcting source."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tutor.coach.bands import Summary, descriptors
from tutor.coach.essay import EssayCoach
from tutor.coach.features import read_paragraphs
from tutor.lessons import load_lessons

from conftest import CORPUS

ESSAY_DIRS = [CORPUS / "eval" / "essays", Path(__file__).parent / "fixtures" / "essays"]
QUESTIONS = [
    None,
    "'Stalin's victory in the power struggle was due to his position as General Secretary.' Assess the validity of this view.",
    "'Stalin's victory in the power struggle of 1924–29 was mainly the result of Trotsky's mistakes.' Explain why you agree or disagree with this view.",
    "To what extent was Stalin's control of the party machine the main reason for his victory in the years 1922–29?",
    "How far was the Left's disunity responsible for Stalin's rise?",
]
ATTRIBUTIONS = """Stalin won the power struggle mainly because his rivals underestimated him and let him build up the party machine from 1922 onwards.

Trotsky famously called Stalin a "grey blur", which shows how little the leading Bolsheviks thought of him. Zinoviev called Stalin "the outstanding mediocrity of our party", so the Left did not see him as a danger until it was too late.

However, underestimation alone does not explain his victory, because Stalin also controlled appointments as General Secretary from April 1922 and used the ban on factions of 1921 against every opposition.

In conclusion, underestimation mattered less than Stalin's control of the apparatus, because even rivals who saw the danger, like Bukharin in 1928, could not outvote the delegates Stalin's secretaries had chosen."""


@pytest.fixture(scope="module")
def coach():
    return EssayCoach(load_lessons(CORPUS))


def _essays() -> list[tuple[str, str]]:
    out = []
    for folder in ESSAY_DIRS:
        for md in sorted(folder.glob("*.md")):
            out.append((md.stem, md.read_text(encoding="utf-8")))
    return out


def _variants(text: str) -> list[str]:
    """The essay and shortened versions of it, so every band and most criteria are exercised."""
    paras = [p for p in text.split("\n\n") if p.strip()]
    out = [text]
    for keep in (2, 3, len(paras) - 1):
        if 2 <= keep < len(paras):
            out.append("\n\n".join(paras[:keep]))
    return [v for v in out if len(v.split()) >= 40]


def test_every_criterion_reads_yes_only_when_its_evidence_says_so(coach):
    seen = {"met": set(), "unmet": set(), "levels": set()}
    for name, text in _essays():
        for variant in _variants(text):
            paras = read_paragraphs(variant, coach.lexicon)
            findings = [f for p in paras for f in coach.facts.check(p.text, p.n)]
            for d in descriptors(Summary.of(paras, findings)):
                where = f"{name} {d.level} {d.key}: met={d.met} why={d.why!r}"
                if d.met:
                    seen["met"].add(d.key)
                    assert not d.gap, where
                else:
                    seen["unmet"].add(d.key)
                    assert d.why and d.why == d.gap, where
                # The issue's examples: a "no" beside "2 of 2 ... give specific evidence" or
                # "every body paragraph is precise".
                full = re.search(r"\b(\d+) of \1 body paragraphs\b", d.why)
                if not d.met:
                    assert not full and "every body paragraph is precise" not in d.why, where
            seen["levels"].add(coach.analyse(variant).level)
    keys = {"knowledge", "analysis", "evidence", "judgement", "balance", "supported", "accuracy", "sustained",
            "precise", "developed"}
    assert seen["met"] == keys and seen["unmet"] == keys
    assert seen["levels"] == {"L1", "L2", "L3", "L4", "L5"}


_WORDS = None


def _vocabulary() -> set[str]:
    global _WORDS
    if _WORDS is None:
        texts = [p.read_text(encoding="utf-8") for p in CORPUS.rglob("*") if p.suffix in (".md", ".yaml", ".jsonl")]
        texts += [p.read_text(encoding="utf-8") for p in (CORPUS.parent / "prompts").rglob("*") if p.is_file()]
        # The coach's own wording lives in its code and templates; a joined word appears in none.
        texts += [p.read_text(encoding="utf-8") for p in (CORPUS.parent / "tutor" / "coach").glob("*.py")]
        texts += [t for _, t in _essays()] + [q for q in QUESTIONS if q]
        _WORDS = {w.lower() for t in texts for w in re.findall(r"[A-Za-z]+", t)}
    return _WORDS


def prose_slips(text: str) -> list[str]:
    """Grammar slips and joined words in one generated text."""
    slips = []
    vocab = _vocabulary()
    for word in re.findall(r"[A-Za-z]+", text):
        if len(word) >= 6 and word.lower() not in vocab:
            slips.append(f"unknown (joined?) word {word!r}")
    checks = [
        (r"\b(\w+) \1\b", "doubled word"), (r"\s[,.;:?!]", "space before punctuation"), (r"  +", "double space"),
        (r"\ba (?=[aeiou])(?!(?:one|uni|use|eu))", "'a' before a vowel"), (r"\ban (?=[bcdfgjklmnpqrstvwxyz])(?!hour)", "'an' before a consonant"),
        (r"\b1 (?:paragraphs|historians|errors|factual errors|dates)\b", "singular number with plural"),
        (r"\b(?:[2-9]|\d\d) (?:paragraph|historian|error|date)\b(?!s)", "plural number with singular"),
        (r"\bparagraphs \d+ (?:has|is|tells|raises)\b", "plural subject, singular verb"),
        (r"[.?!] [a-z]", "sentence starting in lower case"), (r"\.\.(?!\.)", "double full stop"),
        (r"\{|\}", "unfilled template placeholder"),
    ]
    for pattern, what in checks:
        m = re.search(pattern, text)
        if m:
            slips.append(f"{what}: …{text[max(0, m.start() - 25):m.end() + 25]}…")
    if text.count("“") != text.count("”"):
        slips.append("unbalanced quotation marks")
    return slips


def test_generated_sentences_have_no_grammar_slips_or_joined_words(coach):
    problems = []
    for name, text in _essays() + [("attributions", ATTRIBUTIONS)]:
        for question in QUESTIONS:
            a = coach.analyse(text, question=question)
            generated = [a.band_line, *a.questions, *(i["message"] for i in a.issues),
                         *(d["why"] for d in a.descriptors), coach.offline_reply(a)[0], *a.notes]
            for g in generated:
                problems += [f"{name} / {question and question[:30]}: {s}" for s in prose_slips(g)]
    assert not problems, "\n".join(sorted(set(problems))[:20])


def test_the_slip_checks_catch_the_issue_examples():
    assert prose_slips("to reach Level 4: test the view that Stalin's victorywas due to the post.")
    assert prose_slips("paragraphs 2 has no evidence")
    assert prose_slips("the the conclusion")
    assert not prose_slips("Paragraph 2 makes its point without specific evidence.")


def test_a_view_with_its_dates_cut_out_keeps_its_spaces(coach):
    a = coach.analyse(ATTRIBUTIONS, question=QUESTIONS[1])
    text = " ".join(a.questions + [a.band_line])
    assert "victorywas" not in text
    assert "victory was" in text or "victory" not in text


def test_the_band_rests_on_argument_judgement_and_accuracy_not_length(coach):
    text = (ESSAY_DIRS[0] / "l4-trotsky-responsible.md").read_text(encoding="utf-8")
    base = coach.analyse(text)
    # Padding with more narrative does not lift the band.
    padding = ("Lenin died in January 1924. The 13th Congress met in May 1924. The 14th Congress met in December 1925. "
               "Trotsky was expelled in November 1927 and exiled to Alma-Ata in January 1928. ") * 8
    padded = text.replace("\n\n", f"\n\n{padding}\n\n", 1)
    assert len(padded.split()) > len(text.split()) + 250
    assert coach.analyse(padded).level <= base.level
    # Taking away the judgement lowers it, whatever the length.
    paras = text.strip().split("\n\n")
    no_judgement = "\n\n".join(paras[:-1] + [paras[1]])
    assert coach.analyse(no_judgement).level < base.level or coach.analyse(no_judgement).marks < base.marks
    # Factual errors cost accuracy: two wrong attributions and the L4 knowledge criterion fails.
    wrong = text.replace("\n\n", "\n\nTrotsky called Stalin a grey blur. Kamenev called Stalin a Genghis Khan. "
                                 "Rykov and Tomsky sided with Trotsky in 1927.\n\n", 1)
    after = coach.analyse(wrong)
    accuracy = next(d for d in after.descriptors if d["level"] == "L4" and d["descriptor"].startswith("Good, accurate"))
    assert not accuracy["met"] and "factual error" in accuracy["why"]
    assert after.level < base.level or after.marks[0] < base.marks[0]


def test_the_grey_blur_and_outstanding_mediocrity_attributions_are_flagged(coach):
    a = coach.analyse(ATTRIBUTIONS)
    facts = [i for i in a.issues if i["kind"] == "misattribution"]
    blur = next(i for i in facts if "grey blur" in i["sentence"])
    assert "Sukhanov" in blur["message"] and blur["doc"] == "hist-underestimation"
    assert blur["sentence"].startswith("Trotsky famously called Stalin")
    mediocrity = next(i for i in facts if "mediocrity" in i["sentence"])
    assert "Trotsky" in mediocrity["message"] and mediocrity["sentence"].startswith("Zinoviev called Stalin")
    print(json.dumps(facts, indent=1, ensure_ascii=False))
    # They are in the accuracy criterion and in the questions.
    assert any(q.kind == "misattribution" for q in a.steps)
    accuracy = next(d for d in a.descriptors if d["level"] == "L4" and d["descriptor"].startswith("Good, accurate"))
    assert "factual error" in accuracy["why"]
