"""What a reaction is called, the same on every platform, decided here once.

Platforms spell one reaction many ways: Slack sends `+1::skin-tone-3` and accepts
`thumbsup` for `+1`, people type `:White_Check_Mark:` in the console, some clients send the
emoji itself. Every path (Slack, Teams, console) passes the raw name through
`reaction_name`, and the configured approval reactions are normalized the same way, so a
reaction approves on one platform exactly when it does on another. Distinct emoji stay
distinct (`heavy_check_mark` is not `white_check_mark`); both approve if both are configured.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Other names (and the emoji characters) for one reaction, mapped to its canonical name.
ALIASES = {
    "thumbsup": "+1",
    "thumbs_up": "+1",
    "\N{THUMBS UP SIGN}": "+1",
    "thumbsdown": "-1",
    "thumbs_down": "-1",
    "\N{THUMBS DOWN SIGN}": "-1",
    "\N{WHITE HEAVY CHECK MARK}": "white_check_mark",
    "\N{HEAVY CHECK MARK}": "heavy_check_mark",
}

# Slack's `::skin-tone-N` suffix; Unicode skin-tone modifiers and the emoji presentation
# selector that clients append to the emoji characters themselves.
_SKIN_TONE = re.compile(r"::skin-tone-\d+$")
_MODIFIERS = re.compile("[\U0001f3fb-\U0001f3ff\ufe0f]")


def reaction_name(raw: str) -> str:
    """The canonical name of a reaction: no skin tone, no surrounding colons, lower case,
    aliases resolved (`:Thumbsup::skin-tone-2:` is `+1`)."""
    name = raw.strip().strip(":")
    name = _SKIN_TONE.sub("", name).strip(":")
    name = _MODIFIERS.sub("", name).strip().lower()
    return ALIASES.get(name, name)


def reaction_names(raw: Iterable[str]) -> tuple[str, ...]:
    """Configured reaction names, normalized like the reactions they are compared with."""
    names: list[str] = []
    for name in map(reaction_name, raw):
        if name and name not in names:
            names.append(name)
    return tuple(names)
