"""A small, strict reader of Fusion's Lua-table text (.setting / .comp), written for the exporter tests.

It knows nothing about the exporter: it tokenises and parses the Lua table
constructor syntax Fusion writes — ``{ ... }`` tables with ``name = value``,
``[key] = value`` and positional entries, trailing commas, ``--`` comments,
quoted strings with escapes, numbers, ``true``/``false``/``nil``, and typed
constructors ``Name { ... }`` / ``ordered() { ... }`` — and fails loudly on
anything else, so a malformed file makes the test fail.

A table parses to :class:`Table`: ``cls`` (the constructor name or None),
``fields`` (a dict, keys are str for names, int/float/str for ``[key]``) and
``items`` (the positional values, in order).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["Table", "parse", "LuaSyntaxError"]


class LuaSyntaxError(ValueError):
    pass


@dataclass
class Table:
    cls: str | None = None
    fields: dict = field(default_factory=dict)
    items: list = field(default_factory=list)

    def __getitem__(self, key):
        return self.fields[key]

    def get(self, key, default=None):
        return self.fields.get(key, default)

    def __contains__(self, key) -> bool:
        return key in self.fields


_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<comment>--[^\n]*)
  | (?P<number>-?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
  | (?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<punct>[{}\[\]=,()])
""", re.VERBOSE)

_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", '"': '"', "'": "'"}


def _unquote(s: str) -> str:
    body = s[1:-1]
    out, i = [], 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        nxt = body[i + 1]
        if nxt.isdigit():
            m = re.match(r"\d{1,3}", body[i + 1:])
            out.append(chr(int(m.group())))
            i += 1 + len(m.group())
        elif nxt in _ESCAPES:
            out.append(_ESCAPES[nxt])
            i += 2
        else:
            raise LuaSyntaxError(f"unknown escape \\{nxt}")
    return "".join(out)


def _tokens(text: str):
    pos = 0
    out = []
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            line = text.count("\n", 0, pos) + 1
            raise LuaSyntaxError(f"line {line}: unexpected {text[pos:pos + 20]!r}")
        kind = m.lastgroup
        if kind not in ("ws", "comment"):
            out.append((kind, m.group(), text.count("\n", 0, pos) + 1))
        pos = m.end()
    out.append(("eof", "", text.count("\n") + 1))
    return out


class _Parser:
    def __init__(self, text: str):
        self.toks = _tokens(text)
        self.i = 0

    def peek(self, k: int = 0):
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def take(self, value: str | None = None, kind: str | None = None):
        tok = self.toks[self.i]
        if (value is not None and tok[1] != value) or (kind is not None and tok[0] != kind):
            raise LuaSyntaxError(f"line {tok[2]}: expected {value or kind}, got {tok[1]!r}")
        self.i += 1
        return tok

    def value(self):
        kind, text, line = self.peek()
        if kind == "number":
            self.i += 1
            return float(text) if any(c in text for c in ".eE") else int(text)
        if kind == "string":
            self.i += 1
            return _unquote(text)
        if text == "{":
            return self.table(None)
        if kind == "name":
            self.i += 1
            if text in ("true", "false"):
                return text == "true"
            if text == "nil":
                return None
            if self.peek()[1] == "(":  # ordered() { ... }
                self.take("(")
                self.take(")")
            if self.peek()[1] != "{":
                raise LuaSyntaxError(f"line {line}: bare name {text!r} is not a value")
            return self.table(text)
        raise LuaSyntaxError(f"line {line}: unexpected {text!r}")

    def table(self, cls: str | None) -> Table:
        self.take("{")
        t = Table(cls)
        while self.peek()[1] != "}":
            kind, text, line = self.peek()
            if text == "[":
                self.take("[")
                key = self.value()
                if isinstance(key, Table):
                    raise LuaSyntaxError(f"line {line}: table as key")
                self.take("]")
                self.take("=")
                self._set(t, key, self.value(), line)
            elif kind == "name" and self.peek(1)[1] == "=":
                self.i += 2
                self._set(t, text, self.value(), line)
            else:
                t.items.append(self.value())
            if self.peek()[1] == ",":
                self.take(",")
            elif self.peek()[1] != "}":
                raise LuaSyntaxError(f"line {self.peek()[2]}: expected ',' or '}}', got {self.peek()[1]!r}")
        self.take("}")
        return t

    @staticmethod
    def _set(t: Table, key, value, line: int) -> None:
        if key in t.fields:
            raise LuaSyntaxError(f"line {line}: duplicate key {key!r}")
        t.fields[key] = value


def parse(text: str):
    """Parse one Lua value (a .setting's ``{...}`` or a .comp's ``Composition {...}``); nothing may follow it."""
    p = _Parser(text)
    v = p.value()
    p.take(kind="eof")
    return v
