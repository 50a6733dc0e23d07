# Copyright 2026 trunk_cleanup_tempest developers
#
#    Licensed under the Apache License, Version 2.0 (the "License"); you may
#    not use this file except in compliance with the License. You may obtain
#    a copy of the License at
#
#         http://www.apache.org/licenses/LICENSE-2.0
#
#    Unless required by applicable law or agreed to in writing, software
#    distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
#    WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
#    License for the specific language governing permissions and limitations
#    under the License.

"""How a batch's workers share their re-reads of the cloud.

Every write is guarded by a read made right before it; with many
footprints cleaned at once, those reads would grow with their number.
:class:`SharedReader` serves the reads of concurrent workers with one list
call. :class:`Traffic` counts the writes in flight: they tell a shared
read whether the cloud has work while it waits for more workers to ask,
and no more than the batch's workers are in flight at once.
:class:`Slots` lets a worker waiting for a read hand its place on, so no
more footprints than the batch's workers are under way at once.
"""

import contextlib
import threading
import time

from trunk_cleanup_tempest.cleanup import listing


class NoRoom(Exception):
    """No room among the batch's writes came in time: nothing written."""


class Traffic:
    """The writes a batch has in flight, watched by its shared reads.

    No more than ``limit`` writes are in flight at once, or about to be:
    a write guarded by its own If-Match revision (a port's) waits for
    room right before it is sent, which does not weaken its guard; a
    trunk's write, guarded by the read of its parent right before it,
    takes its room before that read (:meth:`reserved`), so nothing waits
    between the read and the write, and the write meets in Neutron no
    more of the batch's writes than ``limit`` allows.

    :param limit: the most writes in flight at once; None for no limit.
    """

    def __init__(self, limit=None):
        self.cond = threading.Condition()
        self.limit = limit
        self.writes = 0
        # Rooms taken for a write to come (see reserved()).
        self.held = 0
        self.listeners = []

    def _take(self, timeout):
        """Wait (the lock held) for room for one more write.

        :raises NoRoom: none came within ``timeout`` seconds (if given).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while (self.limit is not None and
               self.writes + self.held >= self.limit):
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise NoRoom('no room among the batch\'s %s writes in flight '
                             'after %ss' % (self.limit, timeout))
            self.cond.wait(left)

    @contextlib.contextmanager
    def reserved(self, timeout=None):
        """Room for a write to come, taken now and kept until the block ends.

        The write itself goes with ``writing(reserved=True)``, in the
        block, and does not wait.
        """
        with self.cond:
            self._take(timeout)
            self.held += 1
        try:
            yield
        finally:
            with self.cond:
                self.held -= 1
                self.cond.notify_all()

    @contextlib.contextmanager
    def writing(self, wait=False, reserved=False, timeout=None):
        """Count a write in flight for as long as the block runs.

        :param wait: start only once there is room for it (see above),
            within ``timeout`` seconds.
        :param reserved: its room was taken already (see
            :meth:`reserved`): it starts at once.
        """
        with self.cond:
            if reserved:
                if self.held <= 0:
                    raise RuntimeError('a reserved write with no room held')
                self.held -= 1
            elif wait:
                self._take(timeout)
            self.writes += 1
        try:
            yield
        finally:
            with self.cond:
                self.writes -= 1
                if reserved:
                    self.held += 1
                self.cond.notify_all()
            for cond in self.listeners:
                with cond:
                    cond.notify_all()


class Slots:
    """The places of a batch's workers: only a footprint in one writes.

    A worker waiting for a read hands its place on; it takes one back
    before any footprint not yet started does. Once closed (the batch is
    interrupted), no footprint starts; those under way finish.
    """

    def __init__(self, count):
        self.cond = threading.Condition()
        self.free = count
        self.returning = 0
        self.closed = False

    def take(self, returning=False):
        """Wait for a place; False (and none taken) once closed."""
        with self.cond:
            if returning:
                self.returning += 1
                try:
                    while self.free == 0:
                        self.cond.wait()
                finally:
                    self.returning -= 1
                    self.cond.notify_all()
            else:
                # The places left once every returning worker has one.
                while self.free <= self.returning and not self.closed:
                    self.cond.wait()
                if self.closed:
                    return False
            self.free -= 1
            return True

    def give(self):
        with self.cond:
            self.free += 1
            self.cond.notify_all()

    def close(self):
        with self.cond:
            self.closed = True
            self.cond.notify_all()


class SharedReader:
    """Coalesces the reads of concurrent workers into shared list calls.

    A worker that asks while a read is in flight waits for the next one,
    which serves every worker that asked meanwhile: eight workers
    re-reading their ports before deleting them cost about one call, not
    eight, and every answer is still read after the question was asked.
    The worker that leads a read first waits up to ``gather`` seconds for
    the others (less once all ``parties`` have asked, or a call's worth of
    IDs is in): a little latency for far fewer calls.

    Given the batch's :class:`Traffic`, the lead waits only while at
    least a quarter of the workers still asking are writing: the cloud
    has work meanwhile (on the local cloud's 2 cores, two writes keep it
    busy), so the wait costs little throughput; once it would idle, the
    read goes at once.

    A worker that has just deleted a trunk asks for its ports with
    ``follow``: it hands its place to the next footprint (see
    :func:`~.run.cleanup_many`), whose read of its parent port, right before
    that trunk's delete, serves both. One read per footprint, not two.

    :param list_call: a filtered list call, e.g. ``list_ports``.
    :param key: the list in its answer, e.g. ``'ports'``.
    :param parties: how many workers may ask at once.
    :param gather: seconds a read may wait for more askers.
    :param traffic: the batch's writes in flight, or None.
    """

    def __init__(self, list_call, key, parties=1, gather=0.0, traffic=None):
        self.list_call = list_call
        self.key = key
        self.parties = parties
        self.gather = gather
        self.traffic = traffic
        self.cond = threading.Condition()
        if traffic is not None:
            traffic.listeners.append(self.cond)
        self.waiting = set()
        self.askers = 0
        self.collecting = 1
        self.served = 0
        self.busy = False
        self.following = 0
        # Footprints not finished yet, when told (see leave()).
        self.remaining = None
        self.items = {}

    def leave(self, remaining):
        """Only ``remaining`` footprints are left: wait for no more."""
        with self.cond:
            self.parties = min(self.parties, remaining)
            self.remaining = remaining
            self.cond.notify_all()

    def __call__(self, ids, follow=False):
        """``{id: item}`` of those of ``ids`` that exist, read just now.

        :param follow: ride on the next read another worker leads; lead
            one only once no other worker may still ask, or after
            ``gather`` seconds.
        """
        ids = set(ids)
        with self.cond:
            self.waiting |= ids
            self.askers += 1
            self.cond.notify_all()
            mine = self.collecting
            gather = self.gather
            if follow:
                self._follow(mine)
                gather = 0.0
            while self.served < mine and self.busy:
                self.cond.wait()
            if self.served < mine:
                # Lead: gather, then read everything asked for so far.
                self.busy = True
                deadline = time.monotonic() + gather
                while (self.askers < self.parties and
                       len(self.waiting) < listing.IDS_PER_CALL and
                       self._cloud_busy()):
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self.cond.wait(left)
                self.askers = 0
                batch, self.waiting = self.waiting, set()
                generation = self.collecting
                self.collecting += 1
            else:
                batch = None
        if batch is not None:
            self._read(batch, generation)
        with self.cond:
            return {i: self.items[i] for i in ids if self.items.get(i)}

    def _follow(self, mine):
        """Wait (the lock held) for a read another worker leads."""
        self.following += 1
        deadline = time.monotonic() + self.gather
        try:
            while self.served < mine:
                if self.busy:
                    self.cond.wait()
                    continue
                left = deadline - time.monotonic()
                if left <= 0 or self.following >= (
                        self.remaining or self.parties):
                    return
                self.cond.wait(left)
        finally:
            self.following -= 1

    def _cloud_busy(self):
        return (self.traffic is None or
                self.traffic.writes >= max(1, self.parties // 4))

    def _read(self, batch, generation):
        try:
            found = listing.by_id(self.list_call, self.key, batch)
        except BaseException:
            with self.cond:
                # Whoever leads next reads these again.
                self.waiting |= batch
                self.busy = False
                self.cond.notify_all()
            raise
        with self.cond:
            self.items.update((i, found.get(i)) for i in batch)
            self.served = generation
            self.busy = False
            self.cond.notify_all()
