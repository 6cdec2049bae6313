"""French typography for everything people read: web pages and mails.

One filter, applied to whole rendered templates, so that no template has to remember it:

- a narrow no-break space (U+202F) before ``;`` ``:`` ``!`` ``?`` and inside « guillemets »;
- in amounts, a narrow no-break space between thousands and a no-break space (U+00A0) before
  the euro sign (a narrow one before ``%``), so that ``1 234,56 €`` never breaks across lines;
- in times, no-break spaces around the ``h`` of ``14 h 30``.

Both functions are idempotent. :func:`html` changes text between tags only: never a tag, an
attribute, an entity, nor what ``<script>``, ``<style>``, ``<pre>``, ``<code>`` or
``<textarea>`` hold (a value someone typed is given back as they typed it).
"""

import re

NARROW_NBSP = "\u202f"
NBSP = "\u00a0"

_SPACES = "[ \u00a0\u202f]"
# A space (or none, after a letter) before the high punctuation, when it ends a word.
_BEFORE_PUNCTUATION = re.compile(
    rf"(?:{_SPACES}+|(?<=[^\W\d_]))([;:!?])(?=\s|$|[»)\]\"'’.,<]|[!?])", re.UNICODE
)
_AFTER_OPENING_QUOTE = re.compile(rf"«{_SPACES}*")
_BEFORE_CLOSING_QUOTE = re.compile(rf"{_SPACES}*»")
# 1 234 567: groups of three after a group of one to three digits.
_THOUSANDS = re.compile(rf"(?<![\d,.])(\d{{1,3}})((?:{_SPACES}\d{{3}})+)(?!\d)")
_BEFORE_EURO = re.compile(rf"(?<=\d){_SPACES}?€")
_BEFORE_PERCENT = re.compile(rf"(?<=\d){_SPACES}?%")
_TIME = re.compile(rf"\b(\d{{1,2}}){_SPACES}?h{_SPACES}?(\d{{2}})\b")
_HOUR = re.compile(rf"\b(\d{{1,2}}){_SPACES}h(?![\w])")

_RAW_ELEMENTS = ("script", "style", "pre", "code", "textarea")
_TOKENS = re.compile(
    r"(<!--.*?-->|<(?P<raw>" + "|".join(_RAW_ELEMENTS) + r")\b.*?</(?P=raw)\s*>|<[^>]*>)",
    re.DOTALL | re.IGNORECASE,
)
_ENTITY = re.compile(r"&(?:#\d+|#x[0-9a-fA-F]+|[a-zA-Z][a-zA-Z0-9]*);")
_PLACEHOLDER = "\ue000"


def text(value: str) -> str:
    """French typography for plain text (a mail's text body or subject, a page's text)."""
    value = _BEFORE_PUNCTUATION.sub(NARROW_NBSP + r"\1", value)
    value = _AFTER_OPENING_QUOTE.sub("«" + NARROW_NBSP, value)
    value = _BEFORE_CLOSING_QUOTE.sub(NARROW_NBSP + "»", value)
    value = _THOUSANDS.sub(lambda m: m[1] + re.sub(_SPACES, NARROW_NBSP, m[2]), value)
    value = _BEFORE_EURO.sub(NBSP + "€", value)
    value = _BEFORE_PERCENT.sub(NARROW_NBSP + "%", value)
    value = _TIME.sub(rf"\1{NBSP}h{NBSP}\2", value)
    return _HOUR.sub(rf"\1{NBSP}h", value)


def html(markup: str) -> str:
    """French typography for the text of an HTML document (tags and entities untouched)."""
    parts = _TOKENS.split(markup)
    out: list[str] = []
    # re.split with groups yields: text, whole token, raw-element name (or None), text, ...
    for index in range(0, len(parts), 3):
        out.append(_html_text(parts[index]))
        if index + 1 < len(parts):
            out.append(parts[index + 1])
    return "".join(out)


def _html_text(chunk: str) -> str:
    if not chunk.strip():
        return chunk
    entities: list[str] = []

    def hide(match: re.Match[str]) -> str:
        entities.append(match[0])
        return _PLACEHOLDER

    hidden = _ENTITY.sub(hide, chunk)
    fixed = text(hidden)
    restored = iter(entities)
    return re.sub(_PLACEHOLDER, lambda _: next(restored), fixed)
