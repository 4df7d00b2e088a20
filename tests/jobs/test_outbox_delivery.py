"""Nothing is lost when the worker or the queue is away: rows written while no worker runs
wait for one, a lost queue message is handed over again by the relay, every row the relay
hands over is run at once, and a worker killed mid-job leaves its rows pending for the
next one, which sends each email once (but the one in flight at the kill, sent again as
the same message: the documented window, see test_outbox_once.py)."""

from __future__ import annotations

from collections import Counter

from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from api.jobs.outbox import RELAY_BATCH
from schema.accounts import tasks
from tests.jobs.conftest import SpawnWorker, StartWorker
from tests.support.email_flows import VERIFY_PATH
from tests.support.graphql import GraphQLClient
from tests.support.smtp import MailCapture
from tests.support.worker import outbox_rows, wait_until, wait_until_outbox_done

EMAILS = ["ada@example.com", "bob@example.com", "cy@example.com"]


async def register_all(client: GraphQLClient, emails: list[str]) -> None:
    for email in emails:
        await client.register(email)


def recipients(mailbox: MailCapture) -> Counter[str]:
    return Counter(r for mail in mailbox.mails for r in mail.recipients)


async def test_emails_enqueued_while_no_worker_runs_are_sent_once_it_starts(
    client: GraphQLClient, mailbox: MailCapture, engine: AsyncEngine, start_worker: StartWorker
) -> None:
    await register_all(client, EMAILS)
    assert [row.status for row in await outbox_rows(engine)] == ["pending"] * 3

    await start_worker()

    await mailbox.wait_for(3)
    rows = await wait_until_outbox_done(engine, 3)
    assert recipients(mailbox) == Counter(EMAILS)
    assert len({mail.message_id for mail in mailbox.mails}) == 3
    assert all(row.attempts == 1 for row in rows)  # handed over once, at commit


async def test_the_relay_hands_over_again_a_row_whose_queue_message_was_lost(
    client: GraphQLClient,
    mailbox: MailCapture,
    engine: AsyncEngine,
    redis: Redis,
    start_worker: StartWorker,
) -> None:
    await client.register("ada@example.com")
    [row] = await outbox_rows(engine)
    assert row.enqueued_at is not None  # it was handed to the queue at commit...
    await redis.flushdb()  # ...and the queue lost it

    await start_worker(outbox_redeliver_seconds=1)

    await mailbox.wait_for_one("ada@example.com")
    [row] = await wait_until_outbox_done(engine, 1)
    assert row.attempts >= 2  # the hand-over at commit, then the relay's
    assert recipients(mailbox) == Counter(["ada@example.com"])


async def test_every_row_the_relay_hands_over_in_one_batch_is_run_without_waiting(
    engine: AsyncEngine, start_worker: StartWorker
) -> None:
    # A full relay batch of rows never handed over (as the API writes them when the
    # queue is unreachable); jobs for unknown emails, which mail nothing.
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO outbox_messages (id, kind, payload, status, attempts) "
                "SELECT gen_random_uuid(), :kind, "
                "jsonb_build_object('email', 'nobody' || i || '@example.com'), 'pending', 0 "
                "FROM generate_series(1, :count) AS i"
            ),
            {"kind": tasks.PASSWORD_RESET, "count": RELAY_BATCH},
        )

    await start_worker(worker_threads=8)  # redelivery after the default 300 s

    # The relay claims the batch before sending it, so no job finds its row still locked
    # by the relay (such a job used to be dropped as "skipped", its row left for 300 s).
    await wait_until_outbox_done(engine, RELAY_BATCH, within=10)


async def test_a_new_worker_delivers_what_a_killed_worker_left_exactly_once(
    client: GraphQLClient, mailbox: MailCapture, engine: AsyncEngine, spawn_worker: SpawnWorker
) -> None:
    # The first worker takes one job at a time and gets stuck after its first email is
    # accepted; the other jobs wait behind it (in its prefetch, or in the queue).
    mailbox.hold_next_quit()
    first = await spawn_worker(WORKER_THREADS="1")
    await register_all(client, EMAILS)

    async def first_email_in_flight() -> bool:
        return mailbox.holding.is_set()

    await wait_until(first_email_in_flight, what="the first email in flight")
    [in_flight] = mailbox.mails[0].recipients

    first.kill()
    assert [row.status for row in await outbox_rows(engine)] == ["pending"] * 3
    await spawn_worker()

    await wait_until_outbox_done(engine, 3)
    # Jobs not in flight at the kill: exactly one email each. The job in flight had its
    # email accepted, but died before marking its row done: it is sent again (the
    # documented at-least-once window), once, as the same message: one Message-ID, one link.
    assert recipients(mailbox) == Counter({**dict.fromkeys(EMAILS, 1), in_flight: 2})
    first_copy, second_copy = mailbox.to(in_flight)
    assert first_copy.message_id == second_copy.message_id
    assert first_copy.token(VERIFY_PATH) == second_copy.token(VERIFY_PATH)
    assert len({mail.message_id for mail in mailbox.mails}) == 3
