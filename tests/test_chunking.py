"""Passages are sentence-bounded, stay inside one case and one section, and are quotable."""

from __future__ import annotations

from assistant.chunking import HARD_MAX, MAX_CHARS, chunk_cases, split_sentences


def test_passages_point_into_their_case(cases):
    by = {c.id: c for c in cases}
    passages = chunk_cases(cases)
    assert 400 < len(passages) < 1200
    for p in passages:
        assert by[p.case_id].text[p.start : p.end] == p.text
        assert p.title == by[p.case_id].title


def test_passages_cover_the_body_without_overlap(cases):
    passages = chunk_cases(cases)
    for case in cases:
        own = [p for p in passages if p.case_id == case.id]
        for a, b in zip(own, own[1:]):
            assert a.end <= b.start
        body = sum(par.end - par.start for par in case.paragraphs if not par.heading_level)
        covered = sum(p.end - p.start for p in own)
        assert covered >= body * 0.98


def test_sentence_bounded_and_sized(cases):
    passages = chunk_cases(cases)
    for p in passages:
        assert len(p.text) <= HARD_MAX
        assert p.text[-1] in "。！？!?；;…\"”’')）】》" or p.end == _paragraph_end(cases, p)
    assert sum(len(p.text) <= MAX_CHARS + 60 for p in passages) / len(passages) > 0.9


def _paragraph_end(cases, p):
    case = next(c for c in cases if c.id == p.case_id)
    return next(par.end for par in case.paragraphs if par.start <= p.end - 1 < par.end)


def test_section_path_and_index_text(cases):
    passages = chunk_cases(cases)
    p = next(p for p in passages if "共拆除地锁146把" in p.text)
    assert p.section[0] == "三、基层治理见实效,实在何方?"
    # headings and title help retrieval but are not part of the quote
    assert p.title in p.index_text and p.section[0] in p.index_text
    assert p.section[0] not in p.text
    # headings are never quoted as passages
    assert not any(p.text == s.title for c in cases for s in c.sections if not s.inline for p in passages)


def test_split_sentences_keeps_closing_quotes_and_cuts_long_ones():
    text = '他说:"好。"然后走了。' + "很长的句子," * 100 + "完。"
    spans = split_sentences(text)
    assert text[spans[0][0] : spans[0][1]] == '他说:"好。"'
    assert all(e - s <= HARD_MAX for s, e in spans)
    assert "".join(text[s:e] for s, e in spans) == text


def test_content_key_changes_with_text(cases):
    a, b = chunk_cases(cases)[:2]
    assert a.key != b.key and len(a.key) == 40
