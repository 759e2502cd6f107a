import asyncio

from dialplane.claiming import ClaimLoop, slot_lent


class Work:
    """Items to claim, each processed by waiting for its own event (``waits`` lends its slot meanwhile)."""

    def __init__(self, *items: str) -> None:
        self.queue = list(items)
        self.started: list[str] = []
        self.release = {item: asyncio.Event() for item in items}

    async def claim(self, limit: int) -> list[str]:
        claimed, self.queue = self.queue[:limit], self.queue[limit:]
        return claimed

    async def process(self, item: str) -> None:
        self.started.append(item)
        if item.startswith("waits"):
            with slot_lent():
                await self.release[item].wait()
        else:
            await self.release[item].wait()


async def started_soon(work: Work, count: int) -> list[str]:
    for _ in range(100):
        if len(work.started) >= count:
            break
        await asyncio.sleep(0.01)
    return work.started


async def test_an_item_that_lends_its_slot_lets_the_next_item_run_meanwhile() -> None:
    work = Work("waits-1", "runs-1", "runs-2")
    loop = ClaimLoop(work.claim, work.process, concurrency=1, poll_interval=0.01)
    runner = asyncio.create_task(loop.run())

    assert await started_soon(work, 2) == ["waits-1", "runs-1"]
    await asyncio.sleep(0.05)
    assert work.started == ["waits-1", "runs-1"]  # runs-1 holds the only slot

    work.release["waits-1"].set()  # back under its slot: the loop is over its limit until one ends
    work.release["runs-1"].set()
    assert await started_soon(work, 3) == ["waits-1", "runs-1", "runs-2"]
    work.release["runs-2"].set()
    loop.stop()
    await asyncio.wait_for(runner, 1)


async def test_no_more_slots_are_lent_than_the_loop_allows() -> None:
    work = Work("waits-1", "waits-2", "runs-1")
    loop = ClaimLoop(work.claim, work.process, concurrency=1, poll_interval=0.01, max_lent=1)
    runner = asyncio.create_task(loop.run())

    assert await started_soon(work, 2) == ["waits-1", "waits-2"]
    await asyncio.sleep(0.05)
    assert work.started == ["waits-1", "waits-2"]  # waits-2 could not lend: one lent slot at most

    for event in work.release.values():
        event.set()
    assert await started_soon(work, 3) == ["waits-1", "waits-2", "runs-1"]
    loop.stop()
    await asyncio.wait_for(runner, 1)


def test_outside_a_claim_loop_the_block_just_runs() -> None:
    with slot_lent():
        pass
