"""The Teacher page's "Draft a lesson card" section: draft from a document, edit (a form per key
point and hint, or the YAML), validate, publish; the published cards with unpublish.

The page only lays things out: drafting, validation and publishing are tutor.drafting and
tutor.published, the same code `tutor lessons draft/publish` runs.
"""

from __future__ import annotations

import copy
from typing import Any

import streamlit as st

from tutor.drafting import DocumentTexts, DraftError, card_from_yaml, card_to_yaml, draft_from_store, publish_card
from tutor.lessons import HINT_LEVELS, MAX_ID
from tutor.published import LiveLessons, PublishedCards
from tutor.ui.render import escape_markdown

DRAFT_KEY = "teacher_draft"
LEVEL_LABELS = {"pump": "Pump (open question)", "hint": "Hint (narrower)", "prompt": "Prompt (most specific)"}


def _lessons(ctx) -> LiveLessons:
    lessons = ctx.tutor.lessons
    return lessons if isinstance(lessons, LiveLessons) else LiveLessons(lessons, PublishedCards(ctx.settings))


def _terms(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def _rows(data: Any, field: str) -> list[dict[str, Any]]:
    """The mappings in a list field of an edited card; nothing for a field of the wrong shape
    (`key_points: some text`), which validation has already named: the form must still draw."""
    rows = data.get(field) if isinstance(data, dict) else None
    return [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []


def _joined(value: Any) -> str:
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value or "")


def _show_problems(problems: list[str], what: str) -> None:
    # One paragraph per problem, all escaped: a problem quotes the teacher's (or a document's) text.
    st.error(escape_markdown(f"{what} ({len(problems)} problem{'s' if len(problems) != 1 else ''}):\n\n"
                             + "\n\n".join(f"- {p}" for p in problems)), icon=":material/error:")


def _start(ctx, lessons, doc_id: str) -> None:
    try:
        draft = draft_from_store(ctx.store, lessons, doc_id, chat_model=ctx.tutor.chat_model)
    except DraftError as exc:
        st.session_state.pop(DRAFT_KEY, None)
        _show_problems(exc.problems, "Nothing to draft from; nothing was published")
        return
    st.session_state[DRAFT_KEY] = {"doc": doc_id, "card": draft.card, "timeline": draft.timeline,
                                   "accepted": [e["id"] for e in draft.timeline], "notes": draft.notes,
                                   "rev": st.session_state.get(DRAFT_KEY, {}).get("rev", 0) + 1, "problems": None}


def _validate(state: dict[str, Any], lessons, sources: DocumentTexts) -> None:
    from tutor.drafting import validate_card

    live = {r.card_id: r for r in lessons.published.live()}
    previous = live.get(str(state["card"].get("id")))
    state["problems"] = validate_card(
        state["card"], sources=sources, lessons=lessons, timeline=_accepted(state),
        replacing=previous.card_id if previous else None,
        replaced_events={str(e.get("id")) for e in previous.timeline} if previous else None)


def _accepted(state: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in state["timeline"] if e["id"] in state["accepted"]]


def _form(state: dict[str, Any]) -> bool:
    """The card as a form; True when "Validate" was pressed (the card in state is updated)."""
    card = state["card"]
    rev = state["rev"]
    with st.form(f"draft_form_{rev}"):
        question = st.text_input("Question", str(card.get("question") or ""), key=f"q_{rev}")
        edited = []
        for n, kp in enumerate(_rows(card, "key_points"), start=1):
            with st.container(border=True):
                # Escaped text, not code: inside backticks the escapes would show as backslashes.
                st.markdown(f"**Key point {n}** · id: {escape_markdown(str(kp.get('id'))[:MAX_ID])}")
                statement = st.text_area("Statement", str(kp.get("statement") or ""), key=f"kp{n}_st_{rev}", height=80)
                terms = st.text_input("Evidence terms (comma-separated, each must occur in the document)",
                                      _joined(kp.get("evidence_terms")), key=f"kp{n}_terms_{rev}")
                sources = st.text_input("Sources (document ids)", _joined(kp.get("sources")), key=f"kp{n}_src_{rev}")
                hints = {}
                for level in HINT_LEVELS:
                    current = next((str(h.get("text") or "") for h in _rows(card, "hints")
                                    if h.get("key_point") == kp.get("id") and h.get("level") == level), "")
                    hints[level] = st.text_input(LEVEL_LABELS[level], current, key=f"kp{n}_{level}_{rev}")
                edited.append((kp, statement, terms, sources, hints))
        other = _card_fields(card, rev)
        offers = state["timeline"]
        accepted = []
        if offers:
            st.markdown("**Dated events found: add them to the timeline?**")
            for e in offers:
                if st.checkbox(escape_markdown(f"{e['date']} — {e['event']}"), e["id"] in state["accepted"], key=f"tl_{e['id']}_{rev}"):
                    accepted.append(e["id"])
        submitted = st.form_submit_button("Validate", icon=":material/fact_check:")
    if submitted:
        new = copy.deepcopy(card)
        new["question"] = question
        new["key_points"], hint_rows = [], []
        for kp, statement, terms, sources, hints in edited:
            new["key_points"].append({**kp, "statement": statement, "evidence_terms": _terms(terms),
                                      "sources": _terms(sources)})
            hint_rows += [{"key_point": kp.get("id"), "level": level, "text": text} for level, text in hints.items()
                          if text.strip()]
        ids = {kp.get("id") for kp, *_ in edited}
        new["hints"] = hint_rows + [h for h in _rows(card, "hints") if h.get("key_point") not in ids]
        _apply_card_fields(new, other)
        state["card"], state["accepted"] = new, accepted
    return submitted


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _card_fields(card: dict[str, Any], rev: int) -> dict[str, Any]:
    """The card's other fields in the form (match terms, misconceptions, counter-arguments,
    judgement prompts), so nothing is only in the YAML view and all of it survives Validate."""
    fields: dict[str, Any] = {
        "match_terms": st.text_input("Match terms (comma-separated: words that tell a message is about this card)",
                                     ", ".join(map(str, card.get("match_terms", []))), key=f"match_{rev}"),
        "misconceptions": [],
    }
    st.markdown("**Misconceptions** (only mistaken views students really hold; none is better than a made-up one)")
    if not card.get("misconceptions"):
        st.caption("None drafted: the document names no mistaken view. Add one in the YAML view if students hold one.")
    for n, m in enumerate(card.get("misconceptions", []), start=1):
        with st.container(border=True):
            st.markdown(f"**Misconception {n}** · id: {escape_markdown(str(m.get('id')))}")
            keep = st.checkbox("Keep this misconception", True, key=f"mc{n}_keep_{rev}")
            triggers = st.text_area("Triggers (one regular expression a line)", "\n".join(m.get("triggers", [])),
                                    key=f"mc{n}_tr_{rev}", height=68)
            why = st.text_area("Why it is wrong", m.get("why_wrong", ""), key=f"mc{n}_why_{rev}", height=68)
            probe = st.text_input("Probe (a question that tests it)", m.get("probe", ""), key=f"mc{n}_probe_{rev}")
            fields["misconceptions"].append((m, keep, triggers, why, probe))
    fields["counter_arguments"] = st.text_area("Counter-arguments (one a line)",
                                               "\n".join(card.get("counter_arguments", [])), key=f"counter_{rev}")
    fields["judgement_prompts"] = st.text_area("Judgement prompts (one a line)",
                                               "\n".join(card.get("judgement_prompts", [])), key=f"judge_{rev}")
    return fields


def _apply_card_fields(card: dict[str, Any], fields: dict[str, Any]) -> None:
    card["match_terms"] = _terms(fields["match_terms"])
    card["misconceptions"] = [{**m, "triggers": _lines(triggers), "why_wrong": why, "probe": probe}
                              for m, keep, triggers, why, probe in fields["misconceptions"] if keep]
    card["counter_arguments"] = _lines(fields["counter_arguments"])
    card["judgement_prompts"] = _lines(fields["judgement_prompts"])


def _yaml_view(state: dict[str, Any]) -> bool:
    with st.expander("YAML view (edit the whole card)"):
        text = st.text_area("Card YAML", card_to_yaml(state["card"]), height=420, key=f"yaml_{state['rev']}")
        if st.button("Validate YAML", key=f"yaml_go_{state['rev']}"):
            try:
                state["card"] = card_from_yaml(text)
            except DraftError as exc:
                _show_problems(exc.problems, "The YAML cannot be read")
                return False
            state["rev"] += 1
            return True
    return False


def _published_list(ctx, teacher, published: PublishedCards) -> None:
    history = published.history()
    if not history:
        st.caption("No published cards yet.")
        return
    st.markdown("**Published cards**")
    st.dataframe([{"card": r.card_id, "version": r.version, "documents": ", ".join(r.doc_ids),
                   "published": f"{r.published_at[:19]} by {r.published_by}",
                   "withdrawn": f"{r.unpublished_at[:19]} by {r.unpublished_by}" if r.unpublished_at else "live"}
                  for r in history], hide_index=True, width="stretch")
    for record in published.live():
        if st.button(f"Unpublish {escape_markdown(record.card_id)}", key=f"unpublish_{record.card_id}", icon=":material/unpublished:"):
            published.unpublish(teacher, record.card_id)
            st.toast(f"Unpublished {escape_markdown(record.card_id)}")
            st.rerun()


def render_draft_section(ctx, teacher) -> None:
    st.subheader("Draft a lesson card")
    st.caption("Draft a card from a document, edit it, validate it with the rules of `tutor lessons check`, "
               "and publish it: students get it on their next message. The course's own cards are not changed.")
    lessons = _lessons(ctx)
    docs = {r.doc_id: r.title for r in ctx.store.documents()}
    covered = {d for c in lessons.cards for d in c.source_docs}
    order = sorted(docs, key=lambda d: (d in covered, docs[d]))
    doc_id = st.selectbox("Document to draft from", order, index=None, key="draft_doc",
                          format_func=lambda d: f"{docs[d]} ({d})" + ("" if d not in covered else " · has a card"),
                          placeholder="Choose a document")
    if st.button("Draft a lesson card", disabled=not doc_id, icon=":material/edit_note:"):
        _start(ctx, lessons, doc_id)
    state = st.session_state.get(DRAFT_KEY)
    if state:
        for note in state["notes"]:
            st.caption(escape_markdown(note))
        sources = DocumentTexts.from_store(ctx.store)
        if _form(state) or _yaml_view(state):
            _validate(state, lessons, sources)
        problems = state.get("problems")
        if problems:
            _show_problems(problems, "This card cannot be published yet")
        elif problems == []:
            st.success("Valid: every key point is supported by a passage and every evidence term is in the "
                       "document. Ready to publish.", icon=":material/check_circle:")
        if st.button("Publish this card", type="primary", disabled=problems != [], icon=":material/publish:"):
            try:
                record = publish_card(teacher, state["card"], timeline=_accepted(state), published=lessons.published,
                                      lessons=lessons, sources=sources)
            except DraftError as exc:
                state["problems"] = exc.problems
                _show_problems(exc.problems, "Not published")
            else:
                st.success(f"Published {escape_markdown(record.card_id)} v{record.version} "
                           f"with {len(record.timeline)} timeline event(s).", icon=":material/publish:")
                state["problems"] = None
    _published_list(ctx, teacher, lessons.published)
