"""Splitting a SourceDocument into chunks with stable ids and flat metadata.

Example::

    chunks = chunk_document(doc, size=1200, overlap=150)
    chunks[0].id
    # → 'event-ban-on-factions::3f2a9c1d0b::0000'

A chunk id carries the document's content hash, so a new version's chunks never collide
with the old version's: the store can write the new ones before it removes the old.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from langchain_text_splitters import MarkdownHeaderTextSplitter, RecursiveCharacterTextSplitter

from tutor.documents import SourceDocument

_HEADERS = [("#", "h1"), ("##", "h2"), ("###", "h3")]


@dataclass(frozen=True)
class Chunk:
    id: str
    doc_id: str
    text: str
    metadata: dict[str, Any]

    @property
    def search_text(self) -> str:
        """What is embedded and indexed: the passage with its title and section for context."""
        return passage_search_text(self.text, self.metadata)


def passage_search_text(text: str, metadata: dict[str, Any]) -> str:
    head = " — ".join(x for x in (metadata.get("title"), metadata.get("section")) if x)
    return f"{head}\n{text}" if head else text


def chunk_id(doc_id: str, content_hash: str, index: int) -> str:
    return f"{doc_id}::{content_hash[:10]}::{index:04d}"


def _flat(value: Any) -> str | int | float | bool | None:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return value


def base_metadata(doc: SourceDocument) -> dict[str, Any]:
    """Document facts copied onto every chunk (Chroma wants flat scalar values)."""
    meta: dict[str, Any] = {
        "doc_id": doc.doc_id,
        "title": doc.title,
        "kind": doc.kind,
        "source": doc.filename,
        "content_hash": doc.content_hash,
    }
    for key in ("author", "date", "tags", "provenance", "purpose", "audience"):
        if doc.metadata.get(key) not in (None, "", []):
            meta[key] = _flat(doc.metadata[key])
    period = doc.metadata.get("period")
    if isinstance(period, list) and len(period) == 2 and all(str(p).isdigit() for p in period):
        meta["period_start"], meta["period_end"] = int(period[0]), int(period[1])
    return {k: v for k, v in meta.items() if v is not None}


def chunk_document(doc: SourceDocument, size: int, overlap: int) -> list[Chunk]:
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=size, chunk_overlap=min(overlap, size // 2), separators=["\n\n", "\n", ". ", " ", ""]
    )
    pieces: list[tuple[str, dict[str, Any]]] = []
    if doc.is_markdown:
        header_splitter = MarkdownHeaderTextSplitter(_HEADERS, strip_headers=True)
        for part in header_splitter.split_text(doc.text):
            section = part.metadata.get("h3") or part.metadata.get("h2") or part.metadata.get("h1")
            for text in splitter.split_text(part.page_content):
                pieces.append((text, {"section": section} if section else {}))
    else:
        for sec in doc.sections:
            for text in splitter.split_text(sec.text):
                extra = {"page": sec.page, "section": sec.heading}
                pieces.append((text, {k: v for k, v in extra.items() if v is not None}))

    base = base_metadata(doc)
    chunks = []
    for index, (text, extra) in enumerate(p for p in pieces if p[0].strip()):
        meta = {**base, **extra, "chunk_index": index}
        chunks.append(Chunk(id=chunk_id(doc.doc_id, doc.content_hash, index), doc_id=doc.doc_id,
                            text=text.strip(), metadata=meta))
    return chunks
