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
and no more than the batch's workers are in flight at once, counting
the trunk writes whose guard reads are under way.
:class:`Slots` lets a worker waiting for a read hand its place on, so no
more footprints than the batch's workers are under way at once.
"""

import contextlib
import itertools
import threading
import time

from trunk_cleanup_tempest.cleanup import listing


class NoRoom(Exception):
    """No room among the batch's writes came in time: nothing written."""


class Room:
    """A trunk write's room among the batch's writes, taken before its guard.

    Taken either by the shared read that guards the write, right before
    that read is sent (:meth:`SharedReader.__call__`), or by :meth:`take`
    before a read of the caller's own; kept until the block of
    :meth:`Traffic.room` ends. Its write goes with
    ``writing(reserved=True)`` and does not wait. Rooms are given in the
    order they were first asked for.
    """

    _order = itertools.count()

    def __init__(self, traffic, timeout=None):
        self.traffic = traffic
        self.timeout = timeout
        self.deadline = (None if timeout is None else
                         time.monotonic() + timeout)
        self.order = next(self._order)
        self.taken = False
        # The IDs of the read that guards its write (see SharedReader).
        self.ids = frozenset()
        # Why none came in time, once its deadline has passed.
        self.missed = None
        # Its block has ended: no read takes it any more.
        self.withdrawn = False

    @property
    def settled(self):
        """Taken, or missed: no read needs to try again."""
        return self.taken or bool(self.missed)

    def take(self):
        """Wait for room now, before a read of the caller's own.

        :raises NoRoom: none came within the timeout.
        """
        while not self.settled:
            self.traffic.hold([self])
        self.check()

    def check(self):
        """After the read: its room is taken, or nothing is written.

        :raises NoRoom: it is not (none came in time).
        """
        if not self.taken:
            raise NoRoom(self.missed or 'no room was taken before the read')


class Traffic:
    """The writes a batch has in flight, watched by its shared reads.

    No more than ``limit`` writes are in flight at once, or about to be:
    a write guarded by its own If-Match revision (a port's) waits for
    room right before it is sent, which does not weaken its guard; a
    trunk's write, guarded by the read of its parent right before it,
    has its room taken before that read (:class:`Room`), so nothing
    waits between the read and the write, and the write meets in Neutron
    no more of the batch's writes than ``limit`` allows. Rooms taken for
    a read come before any other write that waits.

    :param limit: the most writes in flight at once; None for no limit.
    """

    def __init__(self, limit=None):
        self.cond = threading.Condition()
        self.limit = limit
        self.writes = 0
        # Rooms taken for a write to come (see Room).
        self.held = 0
        # Rooms a read waits for (see hold()): no other write takes them.
        self.pending = 0
        self.listeners = []

    def _free(self):
        return self.limit - self.writes - self.held

    def no_room(self, timeout):
        return ('no room among the batch\'s %s writes in flight after %ss'
                % (self.limit, timeout))

    @contextlib.contextmanager
    def room(self, timeout=None):
        """A :class:`Room` for a trunk's write, given back as the block ends.

        ``timeout`` bounds the wait for it.
        """
        room = Room(self, timeout)
        try:
            yield room
        finally:
            with self.cond:
                room.withdrawn = True
                if room.taken:
                    room.taken = False
                    self.held -= 1
                    self.cond.notify_all()
            self._tell_listeners()

    def hold(self, rooms, patience=0.0):
        """Take room for ``rooms``, before any other write that waits.

        Waits up to ``patience`` seconds for room for all of them, then
        takes the room there is, first asked first served (waiting for
        one at least). A room that none came for by its deadline is
        marked missed; any other left untaken is asked for again by its
        worker, at the next read: a write that hangs costs the others
        only that wait.
        """
        with self.cond:
            rooms = sorted((r for r in rooms if not r.withdrawn),
                           key=lambda r: r.order)
            self.pending += len(rooms)
            try:
                self._wait_for(rooms, time.monotonic() + patience)
                now = time.monotonic()
                free = (len(rooms) if self.limit is None else
                        max(0, self._free()))
                for room in rooms:
                    if room.withdrawn:
                        # Its block ended while this waited (defensive:
                        # its worker waits for this read meanwhile).
                        continue
                    if free > 0:
                        free -= 1
                        room.taken = True
                        self.held += 1
                    elif room.deadline is not None and now >= room.deadline:
                        room.missed = self.no_room(room.timeout)
            finally:
                self.pending -= len(rooms)
                self.cond.notify_all()

    def _wait_for(self, rooms, patient_until):
        """Wait (the lock held) for room for ``rooms``, as hold() says."""
        deadlines = [r.deadline for r in rooms if r.deadline is not None]
        while self.limit is not None and self._free() < len(rooms):
            now = time.monotonic()
            some = self._free() > 0
            if (some and now >= patient_until) or (
                    deadlines and now >= min(deadlines)):
                return
            wakes = deadlines + ([patient_until] if some else [])
            self.cond.wait(min(wakes) - now if wakes else None)

    def give_back(self, rooms):
        """Rooms taken for a read that failed: taken again for the next."""
        with self.cond:
            for room in rooms:
                if room.taken:
                    room.taken = False
                    self.held -= 1
            self.cond.notify_all()
        self._tell_listeners()

    @contextlib.contextmanager
    def writing(self, wait=False, reserved=False, timeout=None):
        """Count a write in flight for as long as the block runs.

        :param wait: start only once there is room for it (see above),
            within ``timeout`` seconds.
        :param reserved: its room was taken already (see :class:`Room`):
            it starts at once.
        :raises NoRoom: no room came within ``timeout``.
        """
        with self.cond:
            if reserved:
                if self.held <= 0:
                    raise RuntimeError('a reserved write with no room held')
                self.held -= 1
            elif wait:
                self._wait_one(timeout)
            self.writes += 1
        try:
            yield
        finally:
            with self.cond:
                self.writes -= 1
                if reserved:
                    self.held += 1
                self.cond.notify_all()
            self._tell_listeners()

    def _tell_listeners(self):
        """Fewer writes in flight or about to be: a read may go now."""
        for cond in self.listeners:
            with cond:
                cond.notify_all()

    def _wait_one(self, timeout):
        """Wait (the lock held) for room for a write that reads want too."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.limit is not None and self._free() <= self.pending:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise NoRoom(self.no_room(timeout))
            self.cond.wait(left)


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
    least a quarter of ``parties`` writes are in flight or have their
    room taken: the cloud has work meanwhile, so the wait costs little
    throughput; once it would idle, the read goes at once.

    A read that guards trunk writes (each asker's :class:`Room`) takes
    their rooms among the batch's writes right before it is sent, ahead
    of any other write that waits, and reads their IDs in its last call:
    none is held while the read gathers, so the batch's other writes go
    on meanwhile, and nothing waits between the read and those writes.

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
        # Rooms to take for the writes the next read guards.
        self.rooms = []
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

    def __call__(self, ids, follow=False, room=None):
        """``{id: item}`` of those of ``ids`` that exist, read just now.

        :param follow: ride on the next read another worker leads; lead
            one only once no other worker may still ask, or after
            ``gather`` seconds.
        :param room: a :class:`Room` of the batch's traffic, for the
            write this read guards: the read's lead takes it, with those
            of the read's other askers, right before the read is sent,
            so none is held while the read gathers; their IDs are read
            in its last call. Unless :attr:`Room.settled` after it, the
            room went to others who asked first: ask again.
        """
        ids = set(ids)
        with self.cond:
            self.waiting |= ids
            if room is not None:
                if self.traffic is None:
                    raise ValueError('a room given to a read with no '
                                     'traffic to take it from')
                room.ids = frozenset(ids)
                self.rooms.append(room)
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
                rooms, self.rooms = self.rooms, []
                generation = self.collecting
                self.collecting += 1
            else:
                batch = None
        if batch is not None:
            self._read(batch, generation, rooms, room)
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
                self.traffic.writes + self.traffic.held >=
                max(1, self.parties // 4))

    def _read(self, batch, generation, rooms, own):
        guarded = set()
        try:
            if rooms:
                # Right before the read: nothing waits between it and
                # the writes it guards, whose IDs go in its last call
                # (those that do not fit ask again).
                fit = []
                for room in sorted(rooms, key=lambda r: r.order):
                    if room.withdrawn:
                        continue
                    if fit and (len(guarded | room.ids) >
                                listing.IDS_PER_CALL):
                        break
                    fit.append(room)
                    guarded |= room.ids
                self.traffic.hold(fit, patience=self.gather)
                guarded = set().union(*(r.ids for r in fit if r.taken))
            found = listing.by_id(self.list_call, self.key, batch,
                                  last=guarded)
        except BaseException:
            # Whoever leads next reads these again, and takes the rooms
            # of those who still wait for it right before (not this
            # worker's own: the error is its).
            waiting = [r for r in rooms if r is not own]
            try:
                if rooms:
                    self.traffic.give_back(waiting)
            finally:
                with self.cond:
                    self.waiting |= batch
                    self.rooms.extend(r for r in waiting
                                      if not (r.settled or r.withdrawn))
                    self.busy = False
                    self.cond.notify_all()
            raise
        with self.cond:
            self.items.update((i, found.get(i)) for i in batch)
            self.served = generation
            self.busy = False
            self.cond.notify_all()
