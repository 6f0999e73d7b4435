"""Finding English on a Chinese page: the words an agent would read that are not Chinese.

Shared by the fast HTML test (tests/hub/web/test_zh_pages.py) and the browser walk
(tests/hub/web/test_zh_browser.py). What is allowed, and why:

- anything inside an element marked ``data-raw`` (the "原始数据" panel, a folded original text):
  the platform's own codes and English citations live there on purpose;
- identifiers: a token with a digit, a dot, or (beside a digit or Chinese) an underscore or dash —
  order ids, waybills, rule ids (``taobao.refund_reply_72h``), idempotency keys, buyer nicknames;
- the names the test's world gives (shops, users) and a short list of brand names and units.

Platform codes (``WAIT_SELLER_AGREE``, ``cs_status``) and vocabulary values (``late_shipment``,
``agree_refund``) are not identifiers here: they must show as their Chinese labels.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from html.parser import HTMLParser

#: brand names, units and file types an agent reads as they are
ALLOWED = frozenset(
    {
        "hub",  # the product's name in the top bar
        "English",  # the language switch (it names the other language)
        "JD",
        "PDF",
        "MB",
        "KB",
        "GIF",
        "JPG",
        "PNG",
        "API",
        "ERP",  # the merchant's ERP (网店管家, E店宝): the ERP 单据 block
        "EMS",  # a courier's own name
        "CSV",
        "Excel",
    }
)
_VOID = frozenset({"br", "img", "input", "meta", "link", "hr", "source", "wbr", "col", "area", "base"})
_HIDDEN = frozenset({"script", "style", "template", "title"})
_TOKEN = re.compile(r"[^\s·,，、：:;；()（）\[\]【】“”\"'=/|→←]+")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
_CJK = re.compile(r"[\u3400-\u9fff]")


def is_identifier(token: str) -> bool:
    """An id-like token: a digit or a dot in it, or an underscore/dash beside Chinese."""
    if re.search(r"\d", token) or "." in token.strip("."):
        return True
    return bool(_CJK.search(token)) and bool(re.search(r"[_\-]", token))


def english_in_text(text: str, names: Iterable[str] = ()) -> list[str]:
    """The Latin words of ``text`` an agent would read as English (sorted, once each)."""
    allowed = ALLOWED | {n for n in names}
    found: set[str] = set()
    for token in _TOKEN.findall(text):
        if token in allowed or is_identifier(token):
            continue
        if token.endswith("…") and any(n.startswith(token[:-1]) for n in allowed):
            continue  # a name cut short to fit a chart's label
        for word in _LATIN_WORD.findall(token):
            if word not in allowed:
                found.add(word)
    return sorted(found)


class _Visible(HTMLParser):
    """The text a reader sees, skipping scripts, styles and ``data-raw`` subtrees."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []
        self.parts: list[str] = []

    def _skipping(self) -> bool:
        return any(skip for _, skip in self.stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            return
        names = {k for k, _ in attrs}
        self.stack.append((tag, tag in _HIDDEN or "data-raw" in names))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        if not self._skipping() and data.strip():
            self.parts.append(data.strip())


def visible_text(html: str) -> str:
    """The page's visible text (one line per text node), without the raw-data panels."""
    parser = _Visible()
    parser.feed(html)
    return "\n".join(parser.parts)


def english_on_page(html: str, names: Iterable[str] = ()) -> dict[str, list[str]]:
    """``{line: [english words]}`` for each visible line of a page that has English."""
    out: dict[str, list[str]] = {}
    for line in visible_text(html).splitlines():
        words = english_in_text(line, names)
        if words:
            out[line[:160]] = words
    return out
