"""`chatops worker`, with a publisher that kills its own process at the worst moments.

The fault-injection test runs two of these against one PostgreSQL database and restarts
them when they die; CHATOPS_TEST_KILL_AFTER_CLAIM / _AFTER_SEND are the probabilities of
SIGKILL between claiming and publishing, and between publishing and recording.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal

from chatops.drafts.publisher import PublishHooks
from chatops.runtime.logs import configure_logging
from chatops.runtime.settings import Settings
from chatops.service import build_service
from chatops.storage.outbox import Claim


class KillHooks(PublishHooks):
    def __init__(self, after_claim: float, after_send: float) -> None:
        self.rng = random.Random()
        self.after_claim_rate = after_claim
        self.after_send_rate = after_send

    async def after_claim(self, claim: Claim) -> None:
        if self.rng.random() < self.after_claim_rate:
            print(f"KILLED after claim of draft {claim.draft_id}", flush=True)
            os.kill(os.getpid(), signal.SIGKILL)

    async def after_send(self, claim: Claim) -> None:
        if self.rng.random() < self.after_send_rate:
            print(f"KILLED after send of draft {claim.draft_id}", flush=True)
            os.kill(os.getpid(), signal.SIGKILL)


async def main() -> None:
    settings = Settings()
    configure_logging(level="WARNING", secrets=settings.secret_values())
    service = build_service(settings)
    service.publisher.hooks = KillHooks(
        float(os.environ.get("CHATOPS_TEST_KILL_AFTER_CLAIM", "0")),
        float(os.environ.get("CHATOPS_TEST_KILL_AFTER_SEND", "0")),
    )
    await service.db.ensure_schema(allow_fresh_sqlite_upgrade=False)
    await service.start_integrations(listen=False)
    print("READY", flush=True)
    await service.workers().run_forever()


if __name__ == "__main__":
    asyncio.run(main())
