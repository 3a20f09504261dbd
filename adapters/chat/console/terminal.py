"""Text from outside, made safe to print on a terminal.

A mention, a display name or a reason can carry escape sequences a terminal obeys: OSC 52
writes the clipboard (`ESC ] 52 ; c ; … BEL`), `ESC [ 2 J` clears the screen, a carriage
return overwrites the line, an 8-bit C1 control (U+009B is CSI) starts a sequence on some
terminals, and bidirectional overrides reorder what is shown. `printable` is the one place
console output passes through: every such character is shown as a visible stand-in (the
Unicode control pictures, or U+FFFD), so a transcript still shows that something was there.
Line breaks and tabs stay.
"""

from __future__ import annotations

REPLACEMENT = "\ufffd"
_BIDI_CONTROLS = (*range(0x202A, 0x202F), *range(0x2066, 0x206A))

_TABLE: dict[int, str] = {
    code: chr(0x2400 + code) for code in range(0x20) if chr(code) not in "\t\n"
}
_TABLE[0x7F] = "\u2421"
_TABLE.update(dict.fromkeys(range(0x80, 0xA0), REPLACEMENT))
_TABLE.update(dict.fromkeys(_BIDI_CONTROLS, REPLACEMENT))


def printable(text: str) -> str:
    """`text` with every terminal control neutralised; `\\r\\n` is read as a line break."""
    return text.replace("\r\n", "\n").translate(_TABLE)
