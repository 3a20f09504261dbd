"""The composition root: the one place that builds settings' objects and wires them.

Everything else receives what it needs as arguments; there are no module-level
singletons to reach for.
"""

from __future__ import annotations

import asyncio
import functools
import os
import socket
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from adapters.chat.slack.integration import SlackIntegration, slack_configured
from adapters.chat.teams.configured import teams_configured
from adapters.social.sandbox.feed import demo_mentions
from adapters.social.sandbox.network import SandboxNetwork, sandbox_connections
from chatops.access.authz import RolePolicy
from chatops.access.roles import RoleAdmin
from chatops.chat.notify import Notifier
from chatops.core import Core
from chatops.domain.types import Mention
from chatops.drafts.agency_policy import compliance_rules
from chatops.drafts.channel_targets import ChannelDefaults
from chatops.drafts.publisher import Publisher
from chatops.drafts.workflow import DraftWorkflow
from chatops.listening.alert_cap import AlertCap
from chatops.listening.alerts import AlertDelivery
from chatops.listening.business_hours import BusinessHours
from chatops.listening.curation import Curation
from chatops.listening.digests import Digests
from chatops.listening.inbox import AlertDesk, ReplyInbox
from chatops.listening.monitoring import MentionPipeline, RoutingPolicy, ScorerSource
from chatops.listening.pollers import MentionPoller, SearchPollers
from chatops.listening.scoring import ScoreWeights
from chatops.listening.spike_watch import SpikeWatch
from chatops.listening.spikes import SpikeSettings
from chatops.listening.subscriptions import Subscriptions
from chatops.networks import Connection, Networks
from chatops.ports import ChatPort, SocialPort
from chatops.runtime.account_settings import unadapted
from chatops.runtime.clock import Clock, SystemClock
from chatops.runtime.health import HealthBoard
from chatops.runtime.settings import Settings
from chatops.runtime.workers import Job, Workers
from chatops.storage.database import Database

if TYPE_CHECKING:
    from adapters.chat.teams.integration import TeamsIntegration
from commands import CommandContext, CommandRegistry, build_registry

DEMO_SOURCE = "sandbox:demo"
LISTENING_BEAT = 60.0


@dataclass
class Service:
    settings: Settings
    db: Database
    clock: Clock
    networks: Networks
    notifier: Notifier
    core: Core
    registry: CommandRegistry
    publisher: Publisher
    pipeline: MentionPipeline
    delivery: AlertDelivery
    digests: Digests
    spikes: SpikeWatch
    inbox: ReplyInbox
    pollers: list[tuple[MentionPoller | SearchPollers, float]] = field(default_factory=list)
    slack: SlackIntegration | None = None
    teams: TeamsIntegration | None = None
    publish_due: asyncio.Event = field(default_factory=asyncio.Event)
    alerts_due: asyncio.Event = field(default_factory=asyncio.Event)
    health: HealthBoard | None = None

    @property
    def social(self) -> SocialPort:
        """The port of the first connection (the sandbox's X, or the first X account):
        what the demo feed and single-network tests drive."""
        return self.networks.ports[0]

    def context(self, chat: ChatPort) -> CommandContext:
        self.notifier.register(chat)
        return CommandContext(core=self.core, chat=chat)

    def add_demo_poller(
        self, *, interval: float, batch_size: int, social: SocialPort | None = None
    ) -> MentionPoller:
        """The poller that replays one sandbox network's demo feed (the first's unless
        told), behind a cursor of its own (`demo_source`)."""
        social = self.social if social is None else social
        poller = MentionPoller(
            db=self.db,
            social=social,
            pipeline=self.pipeline,
            source=demo_source(social, first=social is self.social),
            batch_size=batch_size,
        )
        self.pollers.append((poller, interval))
        return poller

    def add_demo_pollers(self, *, interval: float, batch_size: int) -> list[MentionPoller]:
        """One demo poller for each sandbox network, so the console shows the mentions of
        all three."""
        return [
            self.add_demo_poller(interval=interval, batch_size=batch_size, social=port)
            for port in self.demo_networks()
        ]

    def demo_networks(self) -> list[SandboxNetwork]:
        """The sandbox networks, whose demo feeds the console replays."""
        return [port for port in self.networks.ports if isinstance(port, SandboxNetwork)]

    def add_network_pollers(self) -> None:
        """Listen on the real networks: each port's mentions (each X account has its own
        port), and each distinct search once per network, not once per account."""
        interval = self.settings.x_poll_seconds
        searched: set[str] = set()
        for port in self.networks.ports:
            mentions = MentionPoller(
                db=self.db,
                social=port,
                pipeline=self.pipeline,
                source=_mentions_source(port, first=port is self.networks.ports[0]),
                batch_size=100,
                notifier=self.notifier,
            )
            self.pollers.append((mentions, interval))
            if port.network in searched:
                continue
            searched.add(port.network)
            searches = SearchPollers(
                db=self.db,
                social=port,
                pipeline=self.pipeline,
                notifier=self.notifier,
                batch_size=100,
                accounts=functools.partial(self._handles_on, port.network),
            )
            self.pollers.append((searches, interval))

    def _handles_on(self, network: str) -> list[str]:
        return [a.handle for a in self.networks.accounts() if a.network == network]

    def jobs(self) -> list[Job]:
        """The background work of every way the bot runs (`serve`, `worker`, the console):
        one list, so nothing a channel asked for (a digest, held alerts, an overdue
        question) silently never happens in one of them. Pollers are added by each."""
        beat = self.settings.worker_interval_seconds
        return [
            Job("publisher", self.publisher.run_once, beat, wake=self.publish_due),
            Job("alert-delivery", self.delivery.deliver_pending, beat, wake=self.alerts_due),
            Job("digests", self.digests.run_due, LISTENING_BEAT),
            Job("spike-watch", self.spikes.run_once, LISTENING_BEAT),
            Job("reply-inbox", self.inbox.resurface_overdue, LISTENING_BEAT),
        ]

    def workers(self) -> Workers:
        jobs = self.jobs()
        jobs += [Job(f"poller:{p.source}", p.poll_once, every) for p, every in self.pollers]
        return Workers(jobs, self.health)

    def drain_jobs(self) -> Workers:
        """The console's: every job of `jobs` once, after each line and on its beat, so a
        transcript reads in the order things happened (each job does only what is due)."""
        return Workers(self.jobs(), self.health)

    async def close(self) -> None:
        for port in self.networks.ports:
            await port.close()
        await self.db.dispose()

    async def start_integrations(self, *, listen: bool = True) -> None:
        """Open the chat platforms' connections; `listen` also takes inbound traffic
        (Socket Mode), which only `serve` does."""
        for port in self.networks.ports:
            await port.start()
        if self.slack is not None:
            await self.slack.start(listen=listen)

    async def stop_integrations(self) -> None:
        if self.slack is not None:
            await self.slack.stop()


def build_service(
    settings: Settings,
    *,
    clock: Clock | None = None,
    open_platforms: Collection[str] = (),
    feed: Sequence[Mention] | None = None,
    worker_id: str | None = None,
) -> Service:
    clock = clock or SystemClock()
    db = Database(settings.database_url)
    image_sources = settings.image_sources
    connections = _connections(settings, db=db, clock=clock, feed=feed)
    networks = Networks(
        connections,
        unavailable=() if settings.uses_sandbox else unadapted(settings.social_accounts),
    )
    notifier = Notifier(
        {},
        zone=settings.zone,
        network_labels={port.network: port.label for port in networks.ports},
        db=db,
    )
    policy = RolePolicy.from_settings(
        settings.admins, settings.approvers, open_platforms, workspaces=settings.workspaces
    )
    health = HealthBoard(clock)
    cap = AlertCap(per_minute=settings.alerts_per_minute, urgent_score=settings.alert_urgent_score)
    publish_due = asyncio.Event()
    alerts_due = asyncio.Event()
    compliance = compliance_rules(settings)
    workflow = DraftWorkflow(
        compliance=compliance,
        on_due=publish_due.set,
        db=db,
        clock=clock,
        roles=policy,
        notifier=notifier,
        networks=networks,
        required_approvals=settings.required_approvals,
    )
    scorers = ScorerSource(
        ScoreWeights.from_mapping(settings.score_weights),
        agency_handles=lambda: [a.handle for a in networks.accounts()],
        clock=clock,
    )
    core = Core(
        db=db,
        clock=clock,
        zone=settings.zone,
        approval_reactions=settings.approval_reactions,
        role_policy=policy,
        notifier=notifier,
        workflow=workflow,
        subscriptions=Subscriptions(
            db=db, clock=clock, per_channel=settings.subscriptions_per_channel
        ),
        roles=RoleAdmin(db=db, clock=clock, policy=policy),
        alerts=AlertDesk(db=db, clock=clock, notifier=notifier, cap=cap),
        curation=Curation(
            db=db, clock=clock, policy=policy, changed=scorers.invalidate, compliance=compliance
        ),
        targets=ChannelDefaults(db=db, clock=clock, networks=networks, policy=policy),
        image_sources=image_sources,
    )
    publisher = Publisher(
        db=db,
        clock=clock,
        networks=networks,
        notifier=notifier,
        worker_id=worker_id or _worker_id(),
        lease=timedelta(seconds=settings.publish_lease_seconds),
        max_attempts=settings.publish_max_attempts,
    )
    registry = build_registry()
    slack = None
    if slack_configured(settings):
        slack = SlackIntegration(settings, core=core, registry=registry)
        notifier.register(slack.chat)
    teams = None
    if teams_configured(settings):
        from adapters.chat.teams.integration import TeamsIntegration

        teams = TeamsIntegration(settings, core=core, registry=registry)
        notifier.register(teams.chat)
    service = Service(
        health=health,
        teams=teams,
        publish_due=publish_due,
        alerts_due=alerts_due,
        slack=slack,
        settings=settings,
        db=db,
        clock=clock,
        networks=networks,
        notifier=notifier,
        core=core,
        registry=registry,
        publisher=publisher,
        pipeline=MentionPipeline(
            db=db,
            clock=clock,
            scorers=scorers,
            policy=RoutingPolicy(
                cap=cap,
                response_target=timedelta(hours=settings.response_target_hours),
                business_hours=BusinessHours.parse(settings.business_hours),
                zone=settings.zone,
            ),
            on_alerts=alerts_due.set,
            network_kinds=functools.partial(_kind, networks),
        ),
        digests=Digests(db=db, clock=clock, notifier=notifier, zone=settings.zone),
        spikes=SpikeWatch(
            db=db,
            clock=clock,
            notifier=notifier,
            settings=SpikeSettings(
                alpha=settings.spike_alpha, min_volume=settings.spike_min_volume
            ),
        ),
        inbox=ReplyInbox(
            db=db, clock=clock, notifier=notifier, target_hours=settings.response_target_hours
        ),
        delivery=AlertDelivery(db=db, clock=clock, notifier=notifier, cap=cap, health=health),
    )
    if not settings.uses_sandbox:
        service.add_network_pollers()
    return service


def _connections(
    settings: Settings, *, db: Database, clock: Clock, feed: Sequence[Mention] | None
) -> list[Connection]:
    """Every network port the settings configure, each with its accounts' options: the
    sandbox's networks, or the real networks' accounts."""
    if settings.uses_sandbox:
        return sandbox_connections(
            db=db, clock=clock, feed=demo_mentions() if feed is None else feed
        )
    from adapters.social.x.accounts import x_connections

    return x_connections(settings, db=db, clock=clock, image_sources=settings.image_sources)


def demo_source(port: SocialPort, *, first: bool) -> str:
    """A demo poller's cursor name: `sandbox:demo` for the first sandbox network (as it was
    when there was one, so a console's demo resumes where it stopped), `NETWORK:demo` for
    the others."""
    return DEMO_SOURCE if first else f"{port.network}:demo"


def _mentions_source(port: SocialPort, *, first: bool) -> str:
    """The poll cursor's name: `x:mentions` for the first account (as it was when there
    was one, so an upgrade resumes where it stopped), `x:@handle:mentions` for others."""
    if first or not port.accounts:
        return f"{port.network}:mentions"
    return f"{port.network}:@{port.accounts[0]}:mentions"


def _kind(networks: Networks, network: str) -> str:
    """Whose rules a network follows, for `network:` in rules; a network no longer
    configured is only its own name."""
    return network if networks.network_port(network) is None else networks.kind(network)


def _worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
