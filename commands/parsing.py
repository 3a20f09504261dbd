"""Small, forgiving argument parsing that keeps the post text exactly as typed.

Options come first (`--at "tomorrow 9am" --account @x`); everything after them is the
text, untouched, so apostrophes and quotes in a post survive.
"""

from __future__ import annotations

from chatops.domain.errors import InvalidInput


def take_word(text: str) -> tuple[str, str]:
    """Split off the first word; return (word, rest)."""
    stripped = text.lstrip()
    if not stripped:
        return "", ""
    parts = stripped.split(None, 1)
    return parts[0], parts[1] if len(parts) > 1 else ""


def take_value(text: str, option: str, example: str) -> tuple[str, str]:
    """Read an option's value: a "quoted phrase" or one word."""
    stripped = text.lstrip()
    if stripped[:1] in ('"', "'", "\u201c", "\u2018"):
        opening = stripped[0]
        closing = {"\u201c": "\u201d", "\u2018": "\u2019"}.get(opening, opening)
        end = stripped.find(closing, 1)
        if end < 0:
            raise InvalidInput(
                f"The value of {option} has no closing quote.", hint=f"Example: {example}"
            )
        return stripped[1:end], stripped[end + 1 :]
    value, rest = take_word(stripped)
    if not value or value.startswith("--"):
        raise InvalidInput(f"{option} needs a value.", hint=f"Example: {example}")
    return value, rest


class Options:
    """Options in the order given; `--image` and `--alt` may repeat, pairing up in order."""

    def __init__(self) -> None:
        self.pairs: list[tuple[str, str]] = []

    def add(self, name: str, value: str) -> None:
        self.pairs.append((name, value))

    def __contains__(self, name: object) -> bool:
        return any(n == name for n, _ in self.pairs)

    def __getitem__(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def get(self, name: str, default: str | None = None) -> str | None:
        values = [value for n, value in self.pairs if n == name]
        return values[-1] if values else default


def take_options(
    text: str, known: dict[str, str], example: str, *, repeatable: frozenset[str] = frozenset()
) -> tuple[Options, str]:
    """Leading `--name value` options (from `known`, name -> example), then the rest."""
    options = Options()
    rest = text
    while True:
        word, after = take_word(rest)
        if not word.startswith("--"):
            return options, rest.strip()
        name = word.split("=", 1)[0]
        if name not in known:
            allowed = ", ".join(sorted(known)) or "none"
            raise InvalidInput(
                f"I don't know the option {name}.", hint=f"Options: {allowed}. Example: {example}"
            )
        if name in options and name not in repeatable:
            raise InvalidInput(f"{name} is given twice.", hint=f"Example: {example}")
        if "=" in word:
            value = word.split("=", 1)[1]
            if not value:
                raise InvalidInput(f"{name} needs a value.", hint=f"Example: {known[name]}")
            rest = after
        else:
            value, rest = take_value(after, name, known[name])
        options.add(name, value)


MAX_ID = 2**31 - 1  # ids are 32-bit integer columns on PostgreSQL


def parse_id(value: str, what: str, example: str) -> int:
    cleaned = value.strip().lstrip("#")
    digits = cleaned.removeprefix("-")
    if not (digits.isascii() and digits.isdecimal()):
        shown = value or "nothing"
        raise InvalidInput(f"{what} should be a number, not {shown!r}.", hint=f"Example: {example}")
    if cleaned.startswith("-") or int(digits) == 0:
        raise InvalidInput(
            f"{what} must be a positive number (they start at 1), not {cleaned}.",
            hint=f"Example: {example}",
        )
    number = int(cleaned)
    if number > MAX_ID:
        raise InvalidInput(f"{what} {cleaned} does not exist.", hint=f"Example: {example}")
    return number


def subject_id(value: object) -> int:
    """The draft or alert id a button or form carries; anything else is refused politely."""
    text = str(value if value is not None else "")
    if not (text.isascii() and text.isdecimal()) or int(text) > MAX_ID:
        raise InvalidInput(
            "That button or form is not one of mine, or it is out of date.",
            hint="`/social queue` lists the drafts that can be acted on.",
        )
    return int(text)


UNSEEN_REVISION = 0
"""The revision of a button that names none (cards posted before buttons carried one):
revisions start at 1, so an approval from such a button is always refused as outdated."""


def revision_of(value: object) -> int:
    """The draft revision a button carries (ASCII decimal, 32-bit); none is UNSEEN_REVISION."""
    if value is None or value == "":
        return UNSEEN_REVISION
    return subject_id(value)


def edit_revision(value: object) -> int | None:
    """The revision an edit form (a card's Edit box, Slack's edit modal) was opened on. A form
    from before forms carried one edits the current revision, as a typed command does: an
    edit is refused when stale, not ignored, so nothing is lost either way."""
    if value is None or value == "":
        return None
    return subject_id(value)


def draft_button(value: object) -> tuple[int, int]:
    """(draft id, revision) from a draft button's `ID:REVISION` value; a bare `ID` (an old
    card's button) has revision UNSEEN_REVISION."""
    subject, _, revision = str(value if value is not None else "").partition(":")
    return subject_id(subject), revision_of(revision)


def button_value(value: str, revision: int | None) -> str:
    """The `ID:REVISION` a draft button carries where a button has one string (Slack);
    `draft_button` reads it back. Alert buttons (no revision) carry the bare id."""
    return value if revision is None else f"{value}:{revision}"
