"""Subscription rules: the small query language behind `/alerts subscribe RULE`.

A flat keyword list cannot say "flood, but not the floodlights ad account", "only questions"
or "Spanish mentions from the mayor", so a channel writes a search-engine style rule instead:

    flood OR "boil water" -spam lang:en min_score:40

Grammar (NOT binds tightest, then AND, explicit or implicit, then OR / comma)::

    rule     := or_expr
    or_expr  := and_expr (("OR" | ",") and_expr)*
    and_expr := unary (["AND"] unary)*
    unary    := ("NOT" | "-")* primary          # "-" must touch what it negates
    primary  := WORD | "PHRASE" | FIELD | OPTION | "(" or_expr ")"

Operator words are upper case only, so `or` is an ordinary keyword. Options (`min_score:`,
`mode:`) are settings of the whole rule, not conditions: they may sit anywhere outside
parentheses, un-negated, and never as an OR alternative of their own. (`flood OR rain
min_score:40` is accepted, as in the `/alerts` help example; `flood OR min_score:40` is not.)

Normalisation, chosen so that `parse_rule(format_rule(rule)) == rule` for every parsed rule:

- Term text is lower-cased with runs of whitespace collapsed to one space.
- `Term.phrase` is derived from the text, not from how it was typed: it is True exactly when the
  text could not be written as a bare word (it has a space, a `( ) , : "` character, or starts
  with `-`). So `"flood"` parses as `Term("flood", phrase=False)`, while `"-spam"` stays a phrase.
- Double negation cancels (`NOT -spam` is `spam`); And/Or are flattened and never have one child.
- Field values are lower-cased; `from:` and `account:` drop one leading `@`; `lang:` turns
  `_` into `-`.

`network:` and `account:` say where a mention was heard: `network:mastodon` matches a
mention on a network named `mastodon` or on any network of that kind (`sandbox-mastodon`);
`account:PortAlderWater` matches a mention addressed to that account of the agency. X's
search cannot filter on either, so they are applied here, after the search.
- `min_score:` keeps the number (`040` is 40); `mode:` is lower-cased.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Literal, TypeAlias

from chatops.domain.errors import InvalidInput

EXAMPLE = '/alerts subscribe flood OR "boil water" -spam lang:en min_score:40'
HINT = f"Example: {EXAMPLE}"
FIELDS = ("from", "lang", "is", "sentiment", "network", "account")
OPTIONS = ("min_score", "mode")
MODES = ("instant", "digest")
SENTIMENTS = ("negative", "neutral", "positive")
MAX_DEPTH = 20  # nested parentheses; far beyond real rules, well inside Python's recursion limit

_QUOTES = '"“”'
_BREAKS = frozenset("(),:" + _QUOTES)
_OPERATORS = frozenset({"OR", "AND", "NOT"})
_X_FIELDS = frozenset({"from", "lang"})
_UNKNOWN_FIELD = "fields are from:, lang:, is:, sentiment:, network:, account:, min_score:, mode:."


@dataclass(frozen=True)
class Term:
    """A keyword or phrase; `phrase` is True when the text cannot be written as a bare word."""

    text: str
    phrase: bool


@dataclass(frozen=True)
class Field:
    """A condition on something other than the text: from:, lang:, is:, sentiment:,
    network:, account:."""

    name: str
    value: str


@dataclass(frozen=True)
class Not:
    child: Expr


@dataclass(frozen=True)
class And:
    children: tuple[Expr, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Expr, ...]


Expr: TypeAlias = Term | Field | Not | And | Or


@dataclass(frozen=True)
class Rule:
    """A parsed rule: `query` says which mentions; the options say how they are delivered."""

    query: Expr
    min_score: int | None = None
    mode: str = "instant"


class RuleError(InvalidInput):
    """A rule that does not parse; `position` is the 0-based offset of the problem in the text,
    so chat adapters can point at it."""

    def __init__(self, message: str, *, position: int) -> None:
        super().__init__(message, hint=HINT)
        self.position = position


@dataclass(frozen=True)
class Facts:
    """What a rule is evaluated against (the pipeline computes these once per mention)."""

    text: str
    author: str
    language: str
    sentiment: str
    is_question: bool
    score: int
    network: str = ""
    """The network's configured name (`x`, `sandbox-mastodon`)."""
    network_kind: str = ""
    """Whose rules that network follows (`x`, `mastodon`, `bluesky`): `network:mastodon`
    means every Mastodon-like network, whatever the agency named it."""
    account: str = ""
    """The agency's account the mention was addressed to, without `@`; "" for none."""

    @cached_property
    def folded(self) -> str:
        """The text case-folded once, for a cheap "cannot match" test before any regex."""
        return self.text.casefold()


# --- Tokens -------------------------------------------------------------------------------

_Kind = Literal["word", "phrase", "(", ")", ",", "OR", "AND", "NOT", "-", "end"]
_OPERAND_STARTS = frozenset({"word", "phrase", "(", "NOT", "-"})
_PUNCTUATION: dict[str, _Kind] = {"(": "(", ")": ")", ",": ","}
_OPERATOR_KINDS: dict[str, _Kind] = {"OR": "OR", "AND": "AND", "NOT": "NOT"}


@dataclass(frozen=True)
class _Token:
    kind: _Kind
    text: str
    pos: int


def _tokenize(text: str) -> list[_Token]:
    """Split the rule up front so quote and dash mistakes are reported where they are typed."""
    tokens: list[_Token] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char.isspace():
            i += 1
            continue
        if char in "(),":
            token, i = _Token(_PUNCTUATION[char], char, i), i + 1
        elif char in _QUOTES:
            token, i = _read_phrase(text, i)
        elif char == "-":
            token, i = _read_dash(text, i)
        else:
            token, i = _read_word(text, i)
        tokens.append(token)
    tokens.append(_Token("end", "", len(text)))
    return tokens


def _read_phrase(text: str, start: int) -> tuple[_Token, int]:
    """Any of " “ ” closes a phrase: phones mix straight and curly quotes freely."""
    end = start + 1
    while end < len(text) and text[end] not in _QUOTES:
        end += 1
    if end == len(text):
        raise RuleError(f"Unclosed quote at position {start}.", position=start)
    content = text[start + 1 : end]
    if not content.strip():
        raise RuleError(f"Empty quotes at position {start}.", position=start)
    return _Token("phrase", content, start), end + 1


def _read_dash(text: str, start: int) -> tuple[_Token, int]:
    """A detached dash (`flood - spam`) is refused rather than guessed at."""
    after = text[start + 1 : start + 2]
    if not after or after.isspace() or after in "),":
        raise RuleError(
            f'A "-" must be directly followed by what to leave out, e.g. -spam (position {start}).',
            position=start,
        )
    return _Token("-", "-", start), start + 1


def _read_word(text: str, start: int) -> tuple[_Token, int]:
    end = start
    while end < len(text) and not (text[end].isspace() or text[end] in "()," + _QUOTES):
        end += 1
    word = text[start:end]
    return _Token(_OPERATOR_KINDS.get(word, "word"), word, start), end


def _label(token: _Token) -> str:
    if token.kind in _OPERATORS:
        return token.kind
    return "the end of the rule" if token.kind == "end" else f'"{token.text}"'


# --- Normalisation ------------------------------------------------------------------------


def _is_bare(text: str) -> bool:
    """Whether `text` reads back as the same single keyword without quotes."""
    return (
        bool(text)
        and not text.startswith("-")
        and text not in _OPERATORS
        and not any(char.isspace() or char in _BREAKS for char in text)
    )


def _term(raw: str) -> Term:
    text = " ".join(raw.lower().split())
    return Term(text, phrase=not _is_bare(text))


_FIELD_VALUES: dict[str, tuple[re.Pattern[str], str]] = {
    "from": (re.compile(r"[\w.-]+"), "from: needs a handle, e.g. from:maria"),
    "lang": (
        re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{1,8})*"),
        "lang: needs a language code, e.g. lang:en or lang:pt-br",
    ),
    "is": (re.compile(r"question"), "is: supports only is:question"),
    "sentiment": (
        re.compile("|".join(SENTIMENTS)),
        f"sentiment: must be {', '.join(SENTIMENTS[:-1])} or {SENTIMENTS[-1]}",
    ),
    "network": (
        re.compile(r"[a-z0-9][a-z0-9_-]*"),
        "network: needs a network's name or kind, e.g. network:x or network:mastodon",
    ),
    "account": (
        re.compile(r"[\w.-]+"),
        "account: needs one of the agency's account handles, e.g. account:PortAlderWater",
    ),
}


def _field(name: str, raw: str, pos: int) -> Field:
    """Normalise before validating, so whatever is accepted formats back to itself."""
    value = raw.lower()
    if name in ("from", "account"):
        value = value.removeprefix("@")
    elif name == "lang":
        value = value.replace("_", "-")
    pattern, problem = _FIELD_VALUES[name]
    if not pattern.fullmatch(value):
        raise RuleError(f"{problem} (position {pos}).", position=pos)
    return Field(name, value)


@dataclass(frozen=True)
class _Option:
    name: str
    value: str
    pos: int


def _option(name: str, raw: str, pos: int) -> _Option:
    if name == "min_score":
        if not re.fullmatch(r"[0-9]{1,3}", raw) or int(raw) > 100:
            raise RuleError(
                f"min_score must be a number from 0 to 100 (position {pos}).", position=pos
            )
        return _Option(name, str(int(raw)), pos)
    if raw.lower() not in MODES:
        raise RuleError(f"mode must be instant or digest (position {pos}).", position=pos)
    return _Option(name, raw.lower(), pos)


def _misplaced(name: str, pos: int) -> RuleError:
    return RuleError(
        f"{name}: applies to the whole rule; put it outside parentheses and OR (position {pos}).",
        position=pos,
    )


def _negate(expr: Expr) -> Expr:
    return expr.child if isinstance(expr, Not) else Not(expr)


def _join(kind: type[And] | type[Or], parts: Sequence[Expr]) -> Expr:
    """Flatten same-kind children so every spelling of a rule has one shape."""
    children: list[Expr] = []
    for part in parts:
        children.extend(part.children if isinstance(part, kind) else (part,))
    return children[0] if len(children) == 1 else kind(tuple(children))


# --- Parser -------------------------------------------------------------------------------

_Conjunction: TypeAlias = tuple[Expr | None, list[_Option]]


class _Parser:
    """Recursive descent with one token of look-ahead: small enough to read, and every
    error knows exactly which token it is at."""

    def __init__(self, text: str) -> None:
        self.tokens = _tokenize(text)
        self.index = 0
        self.depth = 0
        self.options: dict[str, _Option] = {}
        self.where: dict[int, int] = {}  # id(node) -> position, to point at a bad sub-rule

    def rule(self) -> Rule:
        if self._peek().kind == "end":
            raise RuleError("The rule is empty; say what to look for.", position=0)
        query = self._or_expr(None)
        if self._peek().kind == ")":
            raise _unbalanced(self._peek().pos)
        if query is None:
            raise self._only_options()
        self._check_anchored(query)
        return self._with_options(query)

    def _peek(self) -> _Token:
        return self.tokens[self.index]

    def _advance(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def _remember(self, expr: Expr, pos: int) -> Expr:
        self.where[id(expr)] = pos
        return expr

    def _or_expr(self, after: str | None) -> Expr | None:
        start = self._peek().pos
        alternatives = [self._and_expr(after)]
        while self._peek().kind in ("OR", ","):
            alternatives.append(self._and_expr(_label(self._advance())))
        exprs = [expr for expr, _ in alternatives if expr is not None]
        if len(alternatives) > 1 and len(exprs) < len(alternatives):
            stray = next(options[0] for expr, options in alternatives if expr is None)
            raise _misplaced(stray.name, stray.pos)
        if len(exprs) < 2:
            return exprs[0] if exprs else None
        return self._remember(_join(Or, exprs), start)

    def _and_expr(self, after: str | None) -> _Conjunction:
        start = self._peek().pos
        exprs: list[Expr] = []
        options: list[_Option] = []
        self._collect(self._unary(after), exprs, options)
        while self._peek().kind == "AND" or self._peek().kind in _OPERAND_STARTS:
            operator = self._advance() if self._peek().kind == "AND" else None
            item = self._unary(_label(operator) if operator else None)
            self._collect(item, exprs, options)
        if len(exprs) < 2:
            return (exprs[0] if exprs else None), options
        return self._remember(_join(And, exprs), start), options

    def _collect(self, item: Expr | _Option, exprs: list[Expr], options: list[_Option]) -> None:
        if not isinstance(item, _Option):
            exprs.append(item)
            return
        if item.name in self.options:
            raise RuleError(
                f"{item.name}: is given twice (position {item.pos}); give it once.",
                position=item.pos,
            )
        self.options[item.name] = item
        options.append(item)

    def _unary(self, after: str | None) -> Expr | _Option:
        negations: list[_Token] = []
        while self._peek().kind in ("NOT", "-"):
            negations.append(self._advance())
            after = _label(negations[-1])
        item = self._primary(after)
        if not negations:
            return item
        if isinstance(item, _Option):
            raise RuleError(
                f"{item.name}: applies to the whole rule and cannot be negated "
                f"(position {item.pos}).",
                position=item.pos,
            )
        for _ in negations:
            item = _negate(item)
        return self._remember(item, negations[0].pos) if isinstance(item, Not) else item

    def _primary(self, after: str | None) -> Expr | _Option:
        token = self._peek()
        if token.kind == "(":
            return self._group()
        if token.kind not in ("word", "phrase"):
            raise _expected(after, token)
        self._advance()
        if token.kind == "phrase" or ":" not in token.text:
            return self._remember(_term(token.text), token.pos)
        return self._field_or_option(token)

    def _field_or_option(self, token: _Token) -> Expr | _Option:
        name, _, value = token.text.partition(":")
        key = name.lower()
        if key in FIELDS:
            return self._remember(_field(key, value, token.pos), token.pos)
        if key not in OPTIONS:
            raise RuleError(
                f'Unknown field "{name}:" at position {token.pos}; {_UNKNOWN_FIELD}',
                position=token.pos,
            )
        if self.depth:
            raise _misplaced(key, token.pos)
        return _option(key, value, token.pos)

    def _group(self) -> Expr:
        opening = self._advance()
        if self.depth >= MAX_DEPTH:
            raise RuleError(
                f"Too many nested parentheses at position {opening.pos}; "
                f"use at most {MAX_DEPTH} levels.",
                position=opening.pos,
            )
        if self._peek().kind == ")":
            raise RuleError(f"Empty parentheses at position {opening.pos}.", position=opening.pos)
        self.depth += 1
        expr = self._or_expr('"("')
        self.depth -= 1
        if self._peek().kind != ")":
            raise _unbalanced(opening.pos)
        self._advance()
        assert expr is not None  # options, the only thing that yields no expression, fail above
        return self._remember(expr, opening.pos)

    def _only_options(self) -> RuleError:
        first = min(option.pos for option in self.options.values())
        return RuleError(
            f"The rule has only settings (min_score:, mode:) and nothing to look for "
            f"(position {first}); add a keyword, phrase or field.",
            position=first,
        )

    def _check_anchored(self, query: Expr) -> None:
        """Refuse rules that can match with nothing to show as a reason (e.g. `-spam`)."""
        if _anchored(query):
            return
        culprit = _culprit(query)
        pos = self.where.get(id(culprit), 0)
        raise RuleError(
            f"`{_format(culprit)}` only says what to leave out (position {pos}); "
            "add a keyword or field that must appear, e.g. flood -spam.",
            position=pos,
        )

    def _with_options(self, query: Expr) -> Rule:
        min_score = self.options.get("min_score")
        mode = self.options.get("mode")
        return Rule(
            query,
            min_score=int(min_score.value) if min_score else None,
            mode=mode.value if mode else "instant",
        )


def _expected(after: str | None, token: _Token) -> RuleError:
    if after is None and token.kind == ")":
        return _unbalanced(token.pos)
    if after is None:
        message = f"Expected a keyword before {_label(token)} at position {token.pos}."
    else:
        message = f"Expected a keyword after {after} at position {token.pos}."
    return RuleError(message, position=token.pos)


def _unbalanced(pos: int) -> RuleError:
    return RuleError(f"Unbalanced parenthesis at position {pos}.", position=pos)


def _anchored(expr: Expr) -> bool:
    """Whether the expression, whenever true, is true because something is present.

    That is what makes `evaluate` able to give a reason for every match."""
    if isinstance(expr, Not):
        return _anchored_when_false(expr.child)
    if isinstance(expr, And):
        return any(_anchored(child) for child in expr.children)
    if isinstance(expr, Or):
        return all(_anchored(child) for child in expr.children)
    return True


def _anchored_when_false(expr: Expr) -> bool:
    """Whether the expression, whenever false, is false because something is present."""
    if isinstance(expr, Not):
        return _anchored(expr.child)
    if isinstance(expr, And):
        return all(_anchored_when_false(child) for child in expr.children)
    if isinstance(expr, Or):
        return any(_anchored_when_false(child) for child in expr.children)
    return False


def _culprit(expr: Expr) -> Expr:
    """The innermost part to blame: the first OR alternative that is itself unanchored."""
    if isinstance(expr, Or):
        for child in expr.children:
            if not _anchored(child):
                return _culprit(child)
    return expr


# --- Public functions ---------------------------------------------------------------------


def parse_rule(text: str) -> Rule:
    """Parse a `/alerts subscribe` rule; raise RuleError pointing at the first problem."""
    return _Parser(text).rule()


def format_rule(rule: Rule) -> str:
    """The canonical text of a rule: what the channel is shown and what is stored."""
    parts = [_format(rule.query)]
    if rule.min_score is not None:
        parts.append(f"min_score:{rule.min_score}")
    if rule.mode != "instant":
        parts.append(f"mode:{rule.mode}")
    return " ".join(parts)


def _format(expr: Expr) -> str:
    if isinstance(expr, Term):
        return _format_term(expr)
    if isinstance(expr, Field):
        return f"{expr.name}:{expr.value}"
    if isinstance(expr, Not):
        return "-" + _wrapped(expr.child, (And, Or))
    if isinstance(expr, And):
        return " ".join(_wrapped(child, (Or,)) for child in expr.children)
    return " OR ".join(_format(child) for child in expr.children)


def _format_term(term: Term) -> str:
    return f'"{term.text}"' if term.phrase or not _is_bare(term.text) else term.text


def _wrapped(expr: Expr, kinds: tuple[type[And] | type[Or], ...]) -> str:
    return f"({_format(expr)})" if isinstance(expr, kinds) else _format(expr)


def evaluate(rule: Rule, facts: Facts) -> tuple[str, ...] | None:
    """None if the rule does not match; else the reasons it matched, for the alert card."""
    if rule.min_score is not None and facts.score < rule.min_score:
        return None
    matched, reasons = _judge(rule.query, facts)
    if not matched:
        return None
    found = tuple(dict.fromkeys(reasons))
    if rule.min_score is not None:
        found += (f"score {facts.score} ≥ {rule.min_score}",)
    return found


def _judge(expr: Expr, facts: Facts) -> tuple[bool, tuple[str, ...]]:
    """The value of `expr` and the present terms and fields that decided it.

    A Not passes its child's reasons through: `-(a -b)` matches *because* b is present."""
    if isinstance(expr, Term | Field):
        value = _holds(expr, facts)
        return value, (_format(expr),) if value else ()
    if isinstance(expr, Not):
        value, reasons = _judge(expr.child, facts)
        return not value, reasons
    results = [_judge(child, facts) for child in expr.children]
    value = any(v for v, _ in results) if isinstance(expr, Or) else all(v for v, _ in results)
    return value, tuple(reason for v, rs in results if v == value for reason in rs)


def _holds(leaf: Term | Field, facts: Facts) -> bool:
    if isinstance(leaf, Term):
        if _first_word(leaf.text) not in facts.folded:
            return False  # most terms are absent from most mentions: skip the regex
        return _pattern(leaf.text).search(facts.text) is not None
    if leaf.name == "from":
        return facts.author.lower().removeprefix("@") == leaf.value
    if leaf.name == "lang":
        language = facts.language.lower().replace("_", "-")
        return language == leaf.value or language.startswith(leaf.value + "-")
    if leaf.name == "is":
        return facts.is_question
    if leaf.name == "network":
        return leaf.value in (facts.network.lower(), facts.network_kind.lower())
    if leaf.name == "account":
        return bool(facts.account) and facts.account.lower().removeprefix("@") == leaf.value
    return facts.sentiment.lower() == leaf.value


@lru_cache(maxsize=4096)
def _first_word(text: str) -> str:
    return text.split()[0].casefold() if text.split() else text.casefold()


@lru_cache(maxsize=4096)
def _pattern(text: str) -> re.Pattern[str]:
    """Whole words only ("flood" is not in "Floodlights"); a phrase allows any spacing."""
    body = r"\s+".join(re.escape(word) for word in text.split())
    return re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE)


def terms(rule: Rule) -> tuple[Term, ...]:
    """The terms that must be present for a match (not negated), in order, without repeats."""
    return tuple(dict.fromkeys(_positive_terms(rule.query, positive=True)))


def _positive_terms(expr: Expr, *, positive: bool) -> Iterator[Term]:
    if isinstance(expr, Term):
        if positive:
            yield expr
    elif isinstance(expr, Not):
        yield from _positive_terms(expr.child, positive=not positive)
    elif isinstance(expr, And | Or):
        for child in expr.children:
            yield from _positive_terms(child, positive=positive)


def search_query(rule: Rule, limit: int = 512) -> str:
    """The rule as an X API v2 recent-search query, or "" when there is nothing to search.

    The query may find more than the rule (the pipeline filters with `evaluate`), never less,
    except in the fallback: when the rule is too long or X cannot express it, search for any
    of its positive terms."""
    positives = terms(rule)
    if not positives:
        return ""
    widened = _widen(rule.query, positive=True)
    if not isinstance(widened, bool):
        query = _format(widened)
        if len(query) <= limit:
            return query
    return _any_of(positives, limit)


def _widen(expr: Expr, *, positive: bool) -> Expr | bool:
    """Drop what X cannot filter on, erring towards finding more.

    A dropped field becomes True where it must hold and False under a negation, so that the
    search result is always a superset; True/False then fold away through And/Or/Not."""
    if isinstance(expr, Term):
        return expr
    if isinstance(expr, Field):
        return expr if expr.name in _X_FIELDS else positive
    if isinstance(expr, Not):
        inner = _widen(expr.child, positive=not positive)
        return (not inner) if isinstance(inner, bool) else _negate(inner)
    parts = [_widen(child, positive=positive) for child in expr.children]
    absorbing = isinstance(expr, Or)  # True absorbs an Or, False absorbs an And
    if any(part is absorbing for part in parts):
        return absorbing
    kept = [part for part in parts if not isinstance(part, bool)]
    return _join(type(expr), kept) if kept else not absorbing


def _any_of(candidates: Sequence[Term], limit: int) -> str:
    """OR of the terms, stopping at the last whole term that fits in `limit` characters."""
    query = ""
    for term in candidates:
        extended = f"{query} OR {_format_term(term)}" if query else _format_term(term)
        if len(extended) > limit:
            break
        query = extended
    return query
