"""Public text is data in the console too: a mention, a display name or a name typed with
`/as` cannot write the clipboard, clear the screen or reorder a line on the terminal."""

from __future__ import annotations

import re
from datetime import timedelta

from chatops.domain.types import Mention, MentionAuthor

OSC52 = "\x1b]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaA==\x07"  # write the clipboard
CLEAR = "\x1b[2J\x1b[H"  # clear the screen
C1_CSI = "\x9b2J"  # the same, as an 8-bit control
OVERWRITE = "Road open\rRoad CLOSED"  # a carriage return hides what came before
RLO = "\u202eesrever"  # a right-to-left override
HOSTILE = f"flood at the bridge?{OSC52}{CLEAR}{C1_CSI} {OVERWRITE} {RLO}"
# Anything a terminal acts on: C0 but tab and line feed, DEL, C1, bidi embeddings,
# overrides and isolates.
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def hostile(chat, number: int) -> Mention:  # type: ignore[no-untyped-def]
    return Mention(
        network="sandbox",
        external_id=f"e-{number}",
        url=f"https://sandbox.invalid/resident{number}/status/e-{number}",
        author=MentionAuthor(handle=f"resident{number}", name=f"Ana{CLEAR}{OSC52}{RLO}"),
        text=HOSTILE,
        created_at=chat.clock.now(),
    )


async def test_alert_cards_digests_and_notes_print_no_terminal_controls(converse) -> None:
    chat = await converse(user="alice")
    await chat.say("/alerts subscribe flood")
    await chat.service.digests.run_due()  # the hourly schedule starts now
    await chat.service.pipeline.ingest([hostile(chat, 1)])
    card = await chat.tick()
    assert "Question on Sandbox" in card
    chat.clock.advance(timedelta(hours=3))
    assert await chat.service.digests.run_due() == 1
    assert await chat.service.inbox.resurface_overdue() == 1
    shown = chat.out.getvalue()
    assert "Hourly digest" in shown and "Still unanswered" in shown
    assert CONTROL.findall(shown) == []
    # Still there to read, as visible stand-ins: ESC as ␛, CR as ␍.
    assert "␛]52;c;" in card
    assert "Road open␍Road CLOSED" in shown


async def test_a_name_typed_with_as_prints_no_terminal_controls(converse) -> None:
    chat = await converse(user="alice")
    said = await chat.say(f"/as bob{C1_CSI}\u202e", "/post Road closure on Main St tonight.")
    assert "You are now bob" in said
    assert "Post draft 1" in said
    assert CONTROL.findall(chat.out.getvalue()) == []
