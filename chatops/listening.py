"""Pollers: fetch new mentions from a social network and feed them to the pipeline."""

from __future__ import annotations

from chatops.monitoring import IngestResult, MentionPipeline
from chatops.ports import SocialPort
from chatops.storage.database import Database
from chatops.storage.mentions import MentionStore


class MentionPoller:
    """Resumes from the cursor stored with the last batch it ingested."""

    def __init__(
        self,
        *,
        db: Database,
        social: SocialPort,
        pipeline: MentionPipeline,
        source: str,
        batch_size: int,
    ) -> None:
        self.db = db
        self.social = social
        self.pipeline = pipeline
        self.source = source
        self.batch_size = batch_size

    async def poll_once(self) -> IngestResult:
        async with self.db.transaction() as session:
            cursor = await MentionStore(session).cursor(self.source)
        batch = await self.social.fetch_mentions(cursor, limit=self.batch_size)
        if batch.cursor is None or batch.cursor == cursor:
            return IngestResult(received=0, stored=0, alerts=0)
        return await self.pipeline.ingest(batch.mentions, cursor=(self.source, batch.cursor))
