"""Coaches for written work: the essay coach (band, checks, one question at a time) and the
source-evaluation coach (provenance, tone, content, value). Both work offline; a model only
rewords what the deterministic analysis decided.

Example::

    from tutor.coach.essay import EssayCoach
    EssayCoach(lessons, retriever).analyse(text).level
    # → 'L3'
"""
