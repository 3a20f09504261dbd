"""`chatops console`: runs a console session on stdin, with the demo feed if asked."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from typing import TextIO

import structlog

from adapters.chat.console.chat import CHANNEL, ConsoleChat
from adapters.chat.console.session import ConsoleSession
from chatops.domain.types import SYSTEM_ACTOR
from chatops.service import DEMO_SOURCE, Service, demo_source
from chatops.storage.mentions import MentionStore

DEMO_RULE = (
    'flood, flooding, "road closure", closed, closure, outage, evacuation, evacuate, '
    'sandbags, "boil water", "power line", trapped, "gas smell", inundación, cortes'
)
BEAT_SECONDS = 1.0
log = structlog.get_logger(__name__)


async def run_console(
    service: Service,
    *,
    user: str,
    demo: bool,
    stdin: TextIO,
    out: TextIO,
    demo_interval: float = 4.0,
    demo_batch: int = 3,
) -> None:
    chat = ConsoleChat(out, reaction=service.settings.approval_reactions[0])
    context = service.context(chat)
    drain = service.drain_jobs()
    session = ConsoleSession(
        context=context,
        registry=service.registry,
        chat=chat,
        user=user,
        out=out,
        drain=drain.run_all_once,
    )
    _banner(service, user, demo, chat)
    if demo:
        await _subscribe_console_on_first_demo(service, chat)
        await _replay_a_finished_demo(service, chat)
        for poller in service.add_demo_pollers(interval=demo_interval, batch_size=demo_batch):
            await poller.poll_once()
        await session.background()

    async def beat() -> None:
        """The background jobs every second (as `serve` runs them); each poller on its own
        interval."""
        loop = asyncio.get_running_loop()
        due = [loop.time() + interval for _, interval in service.pollers]
        while True:
            await asyncio.sleep(BEAT_SECONDS)
            for index, (poller, interval) in enumerate(service.pollers):
                if loop.time() >= due[index]:
                    due[index] = loop.time() + interval
                    try:
                        await poller.poll_once()
                    except Exception:
                        log.exception("console_poll_failed")
            await session.background()
            chat.restore_prompt()  # an alert pushed up the prompt the person types at

    background = asyncio.create_task(beat())
    interactive = stdin.isatty()
    if interactive:
        chat.show_prompt(f"{session.user}> ")
    try:
        async for line in _lines(stdin):
            chat.line_entered()
            if not await session.handle(line):
                break
            if interactive:
                chat.show_prompt(f"{session.user}> ")
    finally:
        background.cancel()
        await session.background()


def _banner(service: Service, user: str, demo: bool, chat: ConsoleChat) -> None:
    names = service.networks.networks()
    network = ", ".join(service.networks.label(name) for name in names)
    plural = "s" if len(names) > 1 else ""
    sandbox = (
        " (SANDBOX: nothing leaves this machine)"
        if all(name.startswith("sandbox") for name in names)
        else ""
    )
    chat.write(f"chatops console, network{plural} {network}{sandbox}. You are {user}.\n")
    chat.write("Type /social help for commands, /as NAME to switch user, /quit to leave.\n")
    if demo:
        on = _listed([service.networks.label(port.network) for port in service.demo_networks()])
        chat.write(f"Demo feed on: mentions of Port Alder on {on} arrive every few seconds.\n")


def _listed(names: list[str]) -> str:
    """`A`, `A and B`, `A, B and C`."""
    if len(names) < 2:
        return "".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"


async def _subscribe_console_on_first_demo(service: Service, chat: ConsoleChat) -> None:
    """The first demo run subscribes the console channel so alerts appear at once."""
    async with service.db.transaction() as session:
        first_run = await MentionStore(session).cursor(DEMO_SOURCE) is None
        has_subscription = bool(await MentionStore(session).subscriptions(CHANNEL))
    if first_run and not has_subscription:
        subscription = await service.core.subscriptions.subscribe(SYSTEM_ACTOR, CHANNEL, DEMO_RULE)
        chat.write(
            f"Subscribed this console to demo keywords (subscription {subscription.id}; "
            "see /alerts list).\n"
        )


async def _replay_a_finished_demo(service: Service, chat: ConsoleChat) -> None:
    """A demo feed that played to its end in an earlier session starts again, with fresh
    ids, so every `make run` shows it as the banner says: each sandbox network's feed
    behind its own cursor."""
    replayed = False
    async with service.db.transaction() as session:
        store = MentionStore(session)
        for network in service.demo_networks():
            source = demo_source(network, first=network is service.social)
            again = network.replay_cursor(await store.cursor(source))
            if again is not None:
                await store.save_cursor(source, again, now=service.clock.now())
                replayed = True
    if replayed:
        chat.write("The demo feed had played to its end: it starts again now, with new ids.\n")


async def _lines(stdin: TextIO) -> AsyncIterator[str]:
    """Read stdin on a daemon thread so a blocked read never holds up shutdown."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str | None] = asyncio.Queue()

    def reader() -> None:
        for line in stdin:
            loop.call_soon_threadsafe(queue.put_nowait, line)
        loop.call_soon_threadsafe(queue.put_nowait, None)

    threading.Thread(target=reader, name="console-stdin", daemon=True).start()
    while (line := await queue.get()) is not None:
        yield line
