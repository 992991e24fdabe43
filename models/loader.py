"""Batches of one split, epoch by epoch, collated ahead of the training step.

The order of an epoch is a function of (seed, epoch) only, so a resumed run sees the same batches
as an uninterrupted one. Parquet sources are permuted whole; a webdataset stream goes through a
seeded shuffle buffer. Collation (numpy) runs in a background thread (default) or, for parquet,
in DataLoader worker processes that persist across epochs (``workers > 0``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import numpy as np

from common.threads import prefetch
from models.collate import collate, collate_numpy, to_torch
from models.data import ParquetSource


def shuffled(items, buffer: int, rng: random.Random, initial: int = 16):
    """A seeded shuffle buffer for a stream (the order depends only on the stream and the rng).

    Yields once ``initial`` items are in, then grows the pool by one extra item per yield up to
    ``buffer`` (as webdataset's shuffle does), so an epoch's first batch does not wait for a full
    buffer to be read.
    """
    items = iter(items)
    pool: list = []
    for item in items:
        pool.append(item)
        if len(pool) < buffer:
            extra = next(items, _END)
            if extra is not _END:
                pool.append(extra)
        if len(pool) >= min(initial, buffer):
            yield pool.pop(rng.randrange(len(pool)))
    rng.shuffle(pool)
    yield from pool


_END = object()


def batch_order(n: int, batch_size: int, shuffle: bool, seed: int, epoch: int) -> list[list[int]]:
    """Batches of positions 0..n-1; the order depends only on (seed, epoch), so a resumed run sees the same batches."""
    idx = np.random.default_rng([seed, epoch]).permutation(n) if shuffle else np.arange(n)
    return [idx[i:i + batch_size].tolist() for i in range(0, n, batch_size)]


@dataclass
class Loader:
    """Batches of one source (``models.data.open_split``; or any source with ``take(positions)`` and a
    ``collate`` of its rows), epoch by epoch."""

    source: object
    batch_size: int
    shuffle: bool = False
    seed: int = 0
    workers: int = 0
    depth: int = 4
    shuffle_buffer: int = 256
    collate: object = None  # rows -> torch batch, for a source with take(positions) (VDF's tokenising batches)
    _pool: object = field(default=None, repr=False)
    _order: object = field(default=None, repr=False)

    def order(self, epoch: int) -> list[list[int]]:
        return batch_order(len(self.source), self.batch_size, self.shuffle, self.seed, epoch)

    def __len__(self) -> int:
        """Batches an epoch (parquet; a stream has no length until read)."""
        return (len(self.source) + self.batch_size - 1) // self.batch_size  # type: ignore[arg-type]

    def _numpy_batches(self, epoch: int):
        if isinstance(self.source, ParquetSource):
            for positions in self.order(epoch):
                yield collate_numpy(self.source[positions])
            return
        stream = iter(self.source)
        if self.shuffle:
            stream = shuffled(stream, self.shuffle_buffer, random.Random(f"{self.seed}-{epoch}"))
        chunk = []
        for ex in stream:
            chunk.append(ex)
            if len(chunk) == self.batch_size:
                yield collate_numpy(chunk)
                chunk = []
        if chunk:
            yield collate_numpy(chunk)

    def epoch(self, epoch: int = 0):
        """The epoch's torch batches (collated ahead in a thread, or in worker processes)."""
        if self.collate is not None:
            yield from prefetch((self.collate(self.source.take(p)) for p in self.order(epoch)), self.depth)
            return
        if self.workers > 0 and isinstance(self.source, ParquetSource):
            yield from self._worker_batches(epoch)
            return
        for batch in prefetch(self._numpy_batches(epoch), self.depth):
            yield to_torch(batch)

    def _worker_batches(self, epoch: int):
        """Through a DataLoader whose worker processes persist across epochs (started once)."""
        if self._pool is None:
            import torch
            from torch.utils.data import DataLoader

            self._order = _EpochOrder(self)
            self._pool = DataLoader(self.source, sampler=self._order, batch_size=None, collate_fn=collate,
                                    num_workers=self.workers, prefetch_factor=self.depth, persistent_workers=True,
                                    generator=torch.Generator().manual_seed(self.seed))
        self._order.epoch = epoch
        yield from self._pool


class _EpochOrder:
    """The batches of ``loader.order(epoch)``; iterated in the main process, so setting ``epoch``
    between epochs reaches persistent workers."""

    def __init__(self, loader: Loader):
        self.loader, self.epoch = loader, 0

    def __iter__(self):
        return iter(self.loader.order(self.epoch))

    def __len__(self) -> int:
        return len(self.loader)
