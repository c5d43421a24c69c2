"""Telegram's HTML parse mode and the checks it applies to a message's text or caption:
markup, entities (offsets in UTF-16 code units) and length."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any

from tests.fake_telegram.model import ApiError


class HtmlError(ValueError):
    pass


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


_TAG_ENTITY = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_TAG_RE = re.compile(
    r"""<(?P<close>/?)(?P<name>[A-Za-z][A-Za-z0-9-]*)"""
    r"""(?P<attrs>(?:\s+[A-Za-z_][\w-]*(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'>]+))?)*)"""
    r"""\s*(?P<selfclose>/?)>"""
)
_ATTR_RE = re.compile(r"""([A-Za-z_][\w-]*)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s"'>]+))?""")
_ENTITY_RE = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|lt|gt|amp|quot);")


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram-flavoured HTML into ``(plain_text, entities)``.

    Raises ``ValueError`` with a Telegram-like description on invalid markup. Entity
    offsets and lengths are in UTF-16 code units, as in the Bot API.
    """
    out: list[str] = []
    pos16 = 0
    stack: list[tuple[str, dict[str, Any], int]] = []  # (tag, entity, start offset)
    entities: list[dict[str, Any]] = []
    i = 0

    def at(index: int) -> str:
        return f"at byte offset {len(source[:index].encode())}"

    while i < len(source):
        ch = source[i]
        if ch == "<":
            m = _TAG_RE.match(source, i)
            if m is None:
                raise HtmlError(f"Unsupported start tag or unescaped '<' {at(i)}")
            name = m["name"].lower()
            if m["close"]:
                if m["attrs"] or m["selfclose"]:
                    raise HtmlError(f'Unexpected attributes in end tag "{name}" {at(i)}')
                if not stack:
                    raise HtmlError(f'Unexpected end tag "{name}" {at(i)}')
                open_name, entity, start = stack.pop()
                if open_name != name:
                    raise HtmlError(
                        f'Unmatched end tag {at(i)}, expected "</{open_name}>", found "</{name}>"'
                    )
                _close_entity(entity, start, pos16, stack, entities)
            else:
                if name not in _TAG_ENTITY:
                    raise HtmlError(f'Unsupported start tag "{name}" {at(i)}')
                if m["selfclose"]:
                    raise HtmlError(f'Unexpected self-closing tag "{name}" {at(i)}')
                attrs = {
                    k.lower(): html.unescape(v.strip("\"'")) if v else ""
                    for k, v in _ATTR_RE.findall(m["attrs"])
                }
                stack.append((name, _open_entity(name, attrs, at(i)), pos16))
            i = m.end()
        elif ch == "&":
            m = _ENTITY_RE.match(source, i)
            if m is None:
                raise HtmlError(f"Unescaped '&' or unsupported HTML entity {at(i)}")
            text = html.unescape(m.group())
            out.append(text)
            pos16 += utf16_len(text)
            i = m.end()
        elif ch == ">":
            raise HtmlError(f"Unescaped '>' {at(i)}")
        else:
            j = i + 1
            while j < len(source) and source[j] not in "<&>":
                j += 1
            out.append(source[i:j])
            pos16 += utf16_len(source[i:j])
            i = j
    if stack:
        raise HtmlError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _open_entity(name: str, attrs: dict[str, str], where: str) -> dict[str, Any]:
    entity: dict[str, Any] = {"type": _TAG_ENTITY[name]}
    if name == "a":
        if not attrs.get("href"):
            raise HtmlError(f'Tag "a" must have attribute "href" {where}')
        entity["url"] = attrs["href"]
    elif name == "span":
        if attrs.get("class") != "tg-spoiler":
            raise HtmlError(f'Tag "span" must have class "tg-spoiler" {where}')
    elif name == "tg-emoji":
        if not attrs.get("emoji-id"):
            raise HtmlError(f'Tag "tg-emoji" must have attribute "emoji-id" {where}')
        entity["custom_emoji_id"] = attrs["emoji-id"]
    elif name == "blockquote" and "expandable" in attrs:
        entity["type"] = "expandable_blockquote"
    elif name == "code" and attrs.get("class", "").startswith("language-"):
        entity["language"] = attrs["class"].removeprefix("language-")
    return entity


def _close_entity(
    entity: dict[str, Any],
    start: int,
    end: int,
    stack: list[tuple[str, dict[str, Any], int]],
    entities: list[dict[str, Any]],
) -> None:
    if entity["type"] == "code":
        language = entity.pop("language", None)
        if stack and stack[-1][0] == "pre":  # <pre><code class="language-x"> is one entity
            if language:
                stack[-1][1]["language"] = language
            return
    if end > start:  # Telegram drops empty entities
        entities.append({**entity, "offset": start, "length": end - start})


def render_text(
    params: Mapping[str, Any], key: str, *, limit: int, required: bool
) -> tuple[str, list[dict[str, Any]]]:
    """Validate a text/caption parameter and return (visible text, entities)."""
    source = params.get(key)
    if source is None or source == "":
        if required:
            raise ApiError(400, "Bad Request: message text is empty", record=True)
        return "", []
    source = str(source)
    parse_mode = params.get("parse_mode")
    entities: list[dict[str, Any]] = list(
        params.get(f"{key}_entities" if key == "caption" else "entities") or []
    )
    if parse_mode is None or parse_mode == "":
        text = source
    elif str(parse_mode).lower() == "html":
        try:
            text, entities = parse_html(source)
        except HtmlError as e:
            raise ApiError(400, f"Bad Request: can't parse entities: {e}", record=True) from e
    elif str(parse_mode).lower() in ("markdown", "markdownv2"):
        text = source  # not emulated: kept as sent
    else:
        raise ApiError(400, f"Bad Request: unsupported parse_mode {parse_mode!r}", record=True)
    if required and not text.strip():
        raise ApiError(400, "Bad Request: message text is empty", record=True)
    if utf16_len(text) > limit:
        what = "message is too long" if key == "text" else "message caption is too long"
        raise ApiError(400, f"Bad Request: {what} ({utf16_len(text)} > {limit})", record=True)
    return text, entities
