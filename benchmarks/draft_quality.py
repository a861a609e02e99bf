"""Drafted cards for the six teacher documents, written out for scoring, with automatic figures.

    python benchmarks/draft_quality.py                    # figures; drafts into docs/drafts/
    python benchmarks/draft_quality.py --out DIR --json

For each document of corpus/eval/teacher_documents the offline draft (tutor.drafting.draft_card,
what `tutor lessons draft --offline` makes) is saved as YAML, and counted: key points that are
claims of the handout (tutor.drafting.is_claim) or background, hints the quality check refuses
(ungrammatical, naming nothing of their point), key points whose levels ask the same thing,
misconceptions (and how many the handout itself names), and whether the card validates. The
teacher's checklist (argument or background by reading, graded hints, plausible misconceptions)
is scored by hand in docs/draft-quality.md; these figures are the machine's side of it.
Run against another checkout with PYTHONPATH (a checkout without is_claim counts claims with
this file's copy of the rule).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

from tutor.documents import read_document
from tutor.drafting import DocumentTexts, DraftError, draft_card, validate_card
from tutor.lessons import LessonCard, load_lessons

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "corpus" / "eval" / "teacher_documents"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "drafts")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from tutor.drafting import is_claim, quality_problems  # noqa: E402 (this checkout's rule, for both sides)

    lessons = load_lessons(ROOT / "corpus")
    docs = {p: read_document(p.name, p.read_bytes()) for p in sorted(DOCS.glob("*.md"))}
    texts = DocumentTexts({d.doc_id: d.text for d in docs.values()})
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for path, doc in docs.items():
        period = tuple(doc.metadata["period"]) if doc.metadata.get("period") else None
        try:
            draft = draft_card(doc.doc_id, doc.title, doc.text, lessons, period=period, tags=doc.metadata.get("tags"))
        except DraftError as exc:
            rows.append({"doc": doc.doc_id, "error": exc.problems[0]})
            continue
        (args.out / f"{path.stem}.yaml").write_text(
            yaml.safe_dump({"card": draft.card, "timeline": draft.timeline, "notes": draft.notes}, sort_keys=False,
                           allow_unicode=True, width=110), encoding="utf-8")
        card = LessonCard.model_validate(draft.card)
        quality = quality_problems(card)
        rows.append({
            "doc": doc.doc_id, "key_points": len(card.key_points),
            "claims": sum(is_claim(kp.statement) for kp in card.key_points),
            "bad_hints": sum(".hints." in q and "asks what" not in q for q in quality),
            "same_levels": sum("asks what" in q for q in quality),
            "misconceptions": len(card.misconceptions),
            "valid": not validate_card(draft.card, sources=texts, lessons=lessons, timeline=draft.timeline),
        })
    done = [r for r in rows if "error" not in r]
    total = {"documents": len(rows), "drafted": len(done), "key_points": sum(r["key_points"] for r in done),
             "claims": sum(r["claims"] for r in done), "bad_hints": sum(r["bad_hints"] for r in done),
             "hints": 3 * sum(r["key_points"] for r in done), "same_levels": sum(r["same_levels"] for r in done),
             "misconceptions": sum(r["misconceptions"] for r in done), "valid": sum(r["valid"] for r in done)}
    if args.json:
        print(json.dumps({"documents": rows, "total": total}, indent=2))
    else:
        for r in rows:
            print(r)
        print(f"drafted {total['drafted']}/{total['documents']}; key points that are claims {total['claims']}/"
              f"{total['key_points']}; hints refused {total['bad_hints']}/{total['hints']}; key points whose levels "
              f"repeat {total['same_levels']}; misconceptions {total['misconceptions']}; valid cards "
              f"{total['valid']}/{total['drafted']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
