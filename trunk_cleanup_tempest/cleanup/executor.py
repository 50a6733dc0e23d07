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

"""Run a plan against the cloud: polls with deadlines, bounded retries.

Each write is retried on 409 and 5xx until the deadline, because those are
what Neutron answers while Nova is still unbinding a port or another
cleaner is half way through; a port delete refused (403) while Nova still
owns the port is retried too. Neutron's own 404 means someone else already
did the work. Every write is guarded by the state it was planned from
(``If-Match: revision_number``), and the parent port and the ports are read
again right before the trunk's and their own deletes, so a server booted
on them since the plan was made is never hurt.
"""

from concurrent import futures
import contextlib
import functools
import json
import re
import threading
import time

from oslo_log import log as logging
from tempest.lib import exceptions as lib_exc

from trunk_cleanup_tempest.cleanup import errors
from trunk_cleanup_tempest.cleanup import evidence
from trunk_cleanup_tempest.cleanup import leftovers
from trunk_cleanup_tempest.cleanup import listing
from trunk_cleanup_tempest.cleanup import planner
from trunk_cleanup_tempest.cleanup import report

LOG = logging.getLogger(__name__)

# Seconds a shared re-read in a batch may wait for other workers to ask
# too, while the cloud is busy with their writes (see SharedReader).
READ_GATHER_BUSY = 1.0

# Neutron's 409 types that name the trunk a port is pinned by.
_PINNED_BY_TRUNK = ('PortInUseAsSubPort', 'PortInUseAsTrunkParent')
_TRUNK_IN_MESSAGE = re.compile(r'trunk ([0-9a-fA-F-]{36})')


def _error_type(exc):
    body = getattr(exc, 'resp_body', None)
    return body.get('type') if isinstance(body, dict) else None


# Every write here is safe to repeat (a repeat of one that landed is a 404).
CONNECTION_ERRORS = errors.CONNECTION_ERRORS
error_text = errors.error_text


class _Outcome(Exception):
    """Ends a retried call early with a final outcome."""

    def __init__(self, outcome, detail):
        super().__init__(detail)
        self.outcome = outcome
        self.detail = detail


class Traffic:
    """The writes a batch has in flight, watched by its shared reads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.writes = 0
        self.listeners = []

    @contextlib.contextmanager
    def writing(self):
        with self.lock:
            self.writes += 1
        try:
            yield
        finally:
            with self.lock:
                self.writes -= 1
            for cond in self.listeners:
                with cond:
                    cond.notify_all()


class _Slots:
    """The places of a batch's workers: only a worker in one writes.

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
    :func:`cleanup_many`), whose read of its parent port, right before
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


class Executor:
    """Carries out the steps of a :class:`~.plan.Plan`.

    Every write is guarded by the state the plan was made from: Neutron's
    ``If-Match: revision_number=N`` on each port and trunk update or
    delete (Neutron answers 412 when the resource changed since), and a
    fresh read of the parent port before the trunk is touched. A changed
    resource is read again and the write is tried again only if nothing
    shows new use (a holder, a new subport); otherwise it is refused.

    :param read_ports: reads ports by ID (``{id: port}``) right before they
        are written; a :class:`SharedReader` when many run at once.
    :param read_ports_later: the same for the ports of a ``delete_ports``
        step, which may wait for another worker's read (their deletes are
        guarded by the revisions it gives); ``read_ports`` by default.
    :param read_trunks: the same for trunks.
    :param replan: makes a fresh :class:`~.planner.Plan` from a fresh
        read; a trunk that changed since it was planned is written only
        if that plan still cleans it.
    """

    # Waits back off from ``interval`` to at most this many times it.
    MAX_BACKOFF_FACTOR = 4

    def __init__(self, clients, timeout=60, interval=1.0, read_ports=None,
                 read_trunks=None, replan=None, read_ports_later=None):
        if timeout <= 0 or interval <= 0:
            raise errors.InvalidOptions(
                'timeout and interval must be positive, got %s and %s'
                % (timeout, interval))
        self.clients = clients
        self.timeout = timeout
        self.interval = interval
        self.read_ports = read_ports or (
            lambda ids: listing.by_id(clients.ports_client.list_ports,
                                      'ports', ids))
        self.read_ports_later = read_ports_later or self.read_ports
        self.read_trunks = read_trunks or (
            lambda ids: listing.by_id(clients.trunks_client.list_trunks,
                                      'trunks', ids))
        # The batch's writes in flight, which its shared reads watch.
        self.traffic = getattr(read_ports, 'traffic', None) or Traffic()
        # The revision each trunk and port is expected at: as planned,
        # then as this run's own writes left it.
        self.revisions = {}
        # Reads everything again and plans anew, when a trunk changed.
        self.replan = replan

    def _retry(self, what, call, on_error=None):
        """Call ``call`` until it returns, or raise a final _Outcome.

        ``call`` returns True when done, False to be called again; Neutron's
        own 404 (``...NotFound``) ends with "already gone", any other 404
        (a proxy's, a wrong endpoint's) proves nothing and fails. Between
        tries the wait doubles, from ``interval`` up to
        ``MAX_BACKOFF_FACTOR`` times it, until the deadline. ``on_error(exc)``
        sees every other error first: it may end the retries (raise
        _Outcome) or return a reason to try again after an error that is
        otherwise final.
        """
        deadline = time.monotonic() + self.timeout
        backoff = self.interval
        last = None
        while True:
            try:
                if call():
                    return
            except lib_exc.NotFound as exc:
                if _neutron_not_found(exc):
                    raise _Outcome(report.GONE, error_text(exc))
                raise _Outcome(report.FAILED, 'a 404 that is not '
                               'Neutron\'s own, so nothing is known: %s'
                               % error_text(exc))
            except (lib_exc.RestClientException,) + CONNECTION_ERRORS as exc:
                last = on_error(exc) if on_error is not None else None
                if not last and not errors.retriable(exc):
                    raise _Outcome(report.FAILED, error_text(exc))
                last = last or error_text(exc)
                LOG.debug('%s: %s; trying again', what, last)
            if time.monotonic() + backoff > deadline:
                raise _Outcome(report.FAILED, '%s: still not done after '
                               '%ss%s' % (what, self.timeout,
                                          ': %s' % last if last else ''))
            time.sleep(backoff)
            backoff = min(backoff * 2,
                          self.interval * self.MAX_BACKOFF_FACTOR)

    def _outcome(self, what, call, on_error=None):
        """(outcome, detail) of :meth:`_retry`."""
        try:
            self._retry(what, call, on_error)
        except _Outcome as end:
            return end.outcome, end.detail
        return report.DONE, ''

    def read(self, what, call):
        """A read retried like a write; its last error is raised."""
        result = {}

        def once():
            try:
                result['value'] = call()
            except (lib_exc.RestClientException,) + CONNECTION_ERRORS as exc:
                result['error'] = exc
                raise
            return True

        try:
            self._retry(what, once)
        except _Outcome:
            if 'error' in result:
                raise result['error']
            raise
        return result['value']

    def run(self, plan, dry_run=False):
        """Run every step of ``plan`` in order.

        :returns: the list of :class:`~.report.Action`
        """
        found = plan.leftovers
        self.revisions = {
            r.id: r.revision_number
            for r in list(found.trunks.values()) + list(found.ports.values())
            if r.present and r.revision_number is not None}
        actions = [report.Action('refuse', r.kind, r.id,
                                 report.REFUSED, r.reason)
                   for r in plan.refusals]
        succeeded = []
        for step in plan.steps:
            blocked = [plan.steps[i] for i in step.after if not succeeded[i]]
            if blocked:
                why = 'not tried: %s of trunk %s did not succeed' % (
                    blocked[0].action, step.trunk_id)
                done = [report.Action(step.action, _kind(step), rid,
                                      report.SKIPPED, why)
                        for rid in step.resource_ids]
            elif dry_run:
                done = [report.Action(step.action, _kind(step), rid,
                                      report.WOULD, step.reason)
                        for rid in step.resource_ids]
            else:
                try:
                    done = self.STEPS[step.action](self, plan, step)
                except Exception as exc:
                    # Whatever it was, this step failed; what is done is
                    # still reported, and what depends on it is skipped.
                    LOG.exception('%s of trunk %s', step.action,
                                  step.trunk_id)
                    done = [report.Action(
                        step.action, _kind(step), rid, report.FAILED,
                        '%s: %s' % (type(exc).__name__, error_text(exc)))
                        for rid in step.resource_ids]
            for action in done:
                LOG.info('%s', action)
            succeeded.append(all(a.outcome in report.SUCCEEDED
                                 for a in done))
            actions.extend(done)
        return actions

    # -- guards -----------------------------------------------------------

    def _if_match(self, resource_id):
        revision = self.revisions.get(resource_id)
        if revision is None:
            # Nothing to guard the write by: no write.
            raise _Outcome(report.FAILED, 'no revision_number known for %s: '
                           'the write cannot be guarded' % resource_id)
        return {'If-Match': 'revision_number=%s' % revision}

    def _send(self, client, name, path, resource_id, body=None):
        """A guarded write: ``If-Match`` the revision this run expects.

        tempest.lib's ``update_*``/``delete_*`` take no headers, so this
        is their request, with the header, counted under their ``name``.
        """
        getattr(client, 'tally', lambda _name: None)(name)
        client = getattr(client, 'raw', client)
        uri = '%s/%s' % (client.uri_prefix, path)
        headers = self._if_match(resource_id)
        method, expected = ('PUT', 200) if body is not None else (
            'DELETE', 204)
        with self.traffic.writing():
            if method == 'PUT':
                resp, data = client.put(uri, json.dumps(body),
                                        headers=headers, extra_headers=True)
            else:
                resp, data = client.delete(uri, headers=headers,
                                           extra_headers=True)
        client.expected_success(expected, resp.status)
        return json.loads(data) if data else {}

    @staticmethod
    def _unheld(plan, port, label='port'):
        """End the step if a holder took ``port`` (a ResourceState)."""
        holder = plan.leftovers.holder(port)
        if holder:
            raise _Outcome(report.REFUSED,
                           '%s %s is now %s' % (label, port.id, holder))
        return port

    def _unchanged_trunk(self, plan, trunk_id):
        """Read the parent (and so the trunk) right now; refuse new use.

        The parent may have no holder and the trunk only the subports it
        was planned with. One read does both where Neutron shows the
        parent's ``trunk_details``; else the trunk is read too. The write
        that follows is guarded by the revision the trunk was planned at
        (or this run's last write left): a change since is a 412, and
        :meth:`_replan` decides.
        """
        parent_id = _record(plan, trunk_id).parent_port_id
        parent = self.read_ports([parent_id]).get(parent_id)
        details = (parent or {}).get('trunk_details') or {}
        if details.get('trunk_id') == trunk_id:
            current = [s['port_id'] for s in details.get('sub_ports', ())]
        else:
            trunk = self.read_trunks([trunk_id]).get(trunk_id)
            if trunk is None:
                raise _Outcome(report.GONE, 'trunk %s is gone' % trunk_id)
            current = [s['port_id'] for s in trunk.get('sub_ports', ())]
        planned = set(plan.leftovers.trunks[trunk_id].sub_ports or ())
        new = sorted(set(current) - planned)
        if new:
            raise _Outcome(report.REFUSED, 'trunk %s has subport(s) %s it '
                           'did not have when it was read: it is in use'
                           % (trunk_id, ', '.join(new)))
        if parent is not None:
            self._unheld(plan, leftovers.port_state(parent), 'parent port')

    def _replan(self, plan, trunk_id):
        """The trunk changed since it was planned: read all of it again.

        It is written only if a fresh plan still cleans it; the write is
        then guarded by its fresh revision.
        """
        try:
            trunk = self.clients.trunks_client.show_trunk(trunk_id)['trunk']
        except lib_exc.NotFound as exc:
            raise _Outcome(report.GONE if _neutron_not_found(exc)
                           else report.FAILED, error_text(exc))
        if self.replan is not None:
            fresh = self.replan()
            if trunk_id not in fresh.evidence or any(
                    r.id == trunk_id for r in fresh.refusals):
                why = [r.reason for r in fresh.refusals if r.id == trunk_id]
                raise _Outcome(report.REFUSED, 'trunk %s changed since it '
                               'was read: %s' % (trunk_id, why[0] if why
                                                 else 'no longer planned'))
        self.revisions[trunk_id] = trunk.get('revision_number')

    def _trunk_step(self, plan, step, what, write):
        """``write()`` the trunk, each try right after it is re-checked.

        Every try reads the parent again (shared with other workers) and
        writes with ``If-Match``: a 412 (the trunk changed) is planned
        anew, a 409 ``TrunkInUse`` (its parent is bound) is tried again,
        and the next read says whether the change is new use.
        """
        tid = step.trunk_id

        def call():
            self._unchanged_trunk(plan, tid)
            try:
                return write()
            except lib_exc.PreconditionFailed:
                self._replan(plan, tid)
                return False

        return self._outcome(what, call)

    # -- steps ------------------------------------------------------------

    def _enable_trunk(self, plan, step):
        tid = step.trunk_id

        def write():
            body = self._send(self.clients.trunks_client, 'update_trunk',
                              'trunks/%s' % tid, tid,
                              {'trunk': {'admin_state_up': True}})
            self.revisions[tid] = body['trunk'].get('revision_number')
            return True

        outcome, detail = self._trunk_step(plan, step,
                                           'enable trunk %s' % tid, write)
        return [report.Action(step.action, leftovers.TRUNK, tid, outcome,
                              detail)]

    def _wait_parent_unbound(self, plan, step):
        port_id = step.resource_ids[0]
        seen = {}

        def call():
            port = self._read_unheld(plan, port_id, 'parent port')
            seen['port'] = port
            return not port.device_id

        outcome, detail = self._outcome(
            'wait for port %s to be unbound' % port_id, call)
        port = seen.get('port')
        if outcome == report.FAILED and port and port.device_id:
            detail = ('port %s still has device_id %s (owner %s, host '
                      '%s) after %ss' % (port_id, port.device_id,
                                         port.device_owner,
                                         port.binding_host or 'none',
                                         self.timeout))
        return [report.Action(step.action, leftovers.PORT, port_id,
                              outcome, detail)]

    def _unbind_parent(self, plan, step):
        port_id = step.resource_ids[0]
        ports = self.clients.ports_client

        def call():
            port = self._read_unheld(plan, port_id, 'parent port')
            if not port.device_id:
                raise _Outcome(report.GONE, 'already unbound')
            # Guarded by the revision just read: a server that takes the
            # port meanwhile makes Neutron refuse (412), and it is read
            # again.
            self.revisions[port_id] = port.revision_number
            try:
                self._send(ports, 'update_port', 'ports/%s' % port_id,
                           port_id,
                           {'port': {'device_id': '', 'device_owner': '',
                                     'binding:host_id': ''}})
            except lib_exc.PreconditionFailed:
                return False
            return True

        outcome, detail = self._outcome('unbind port %s' % port_id, call)
        return [report.Action(step.action, leftovers.PORT, port_id,
                              outcome, detail)]

    def _delete_trunk(self, plan, step):
        tid = step.trunk_id

        def write():
            self._send(self.clients.trunks_client, 'delete_trunk',
                       'trunks/%s' % tid, tid)
            return True

        outcome, detail = self._trunk_step(plan, step,
                                           'delete trunk %s' % tid, write)
        return [report.Action(step.action, leftovers.TRUNK, tid, outcome,
                              detail)]

    def _delete_ports(self, plan, step):
        ports = self.clients.ports_client
        ours = set(plan.footprint.trunk_ids)
        held_by_nova = set()
        # One read for the whole step (shared with other workers): what
        # holds each port now, and the revision its delete is guarded by.
        # The trunk's delete has just changed its subports (Neutron
        # releases them), so the planned revisions would mostly be stale.
        try:
            current = {pid: leftovers.port_state(port) for pid, port in
                       self.read('read ports %s' % ', '.join(
                           step.resource_ids), lambda: self.read_ports_later(
                               step.resource_ids)).items()}
        except (lib_exc.RestClientException,) + CONNECTION_ERRORS as exc:
            return [report.Action(step.action, leftovers.PORT, pid,
                                  report.FAILED, 'not read again before '
                                  'its delete: %s' % error_text(exc))
                    for pid in step.resource_ids]

        def on_error(pid, exc):
            found = _TRUNK_IN_MESSAGE.search(error_text(exc))
            if (_error_type(exc) in _PINNED_BY_TRUNK and found and
                    found.group(1) not in ours):
                raise _Outcome(report.REFUSED,
                               '%s: not part of this footprint'
                               % error_text(exc))
            if isinstance(exc, lib_exc.PreconditionFailed):
                # Changed since it was read: read it again.
                try:
                    port = self._read_unheld(plan, pid)
                except (lib_exc.RestClientException,) + \
                        CONNECTION_ERRORS as read_exc:
                    return 'port %s not read again: %s' % (
                        pid, error_text(read_exc))
                self.revisions[pid] = port.revision_number
                return 'port %s changed since it was read' % pid
            if isinstance(exc, lib_exc.Forbidden):
                why = self._held_by_nova(plan, pid)
                if why:
                    held_by_nova.add(pid)
                    return why
                if pid in held_by_nova:
                    # Released between the refusal and the read.
                    held_by_nova.discard(pid)
                    return 'Nova released it: trying again'
            return None

        def delete(pid):
            self._send(ports, 'delete_port', 'ports/%s' % pid, pid)
            return True

        actions = []
        for pid in step.resource_ids:
            state = current.get(pid)
            holder = plan.leftovers.holder(state) if state else None
            if state is None:
                result = (report.GONE, '')
            elif holder:
                result = (report.REFUSED, 'port %s is now %s'
                          % (pid, holder))
            else:
                self.revisions[pid] = state.revision_number
                result = self._outcome('delete port %s' % pid,
                                       functools.partial(delete, pid),
                                       functools.partial(on_error, pid))
            actions.append(report.Action(step.action, leftovers.PORT,
                                         pid, *result))
        return actions

    def _read_unheld(self, plan, port_id, label='port'):
        """The port as it is now; ends the step if it is gone or held."""
        try:
            port = leftovers.port_state(
                self.clients.ports_client.show_port(port_id)['port'])
        except lib_exc.NotFound as exc:
            if not _neutron_not_found(exc):
                raise
            raise _Outcome(report.GONE, error_text(exc))
        return self._unheld(plan, port, label)

    def _held_by_nova(self, plan, port_id):
        """Why a refused port delete is worth retrying, or None.

        Neutron (2025.1 on) lets only an admin or a service delete a port
        owned by ``compute:*``. Nova can bind the port of a server deleted
        while it was building after the plan read it unbound, and releases
        it soon after: until then the refusal is Nova's to lift.
        """
        try:
            port = self._read_unheld(plan, port_id)
        except (lib_exc.RestClientException,) + CONNECTION_ERRORS as exc:
            return 'port %s not read again: %s' % (port_id, error_text(exc))
        # Nova's own changes are expected: the next try is guarded by them.
        self.revisions[port_id] = port.revision_number
        if port.device_id and port.device_owner.startswith(
                leftovers.COMPUTE_OWNER_PREFIX):
            return ('Nova has not released it yet (owner %s, device %s): '
                    'only an admin may delete it before then'
                    % (port.device_owner, port.device_id))
        return None

    STEPS = {
        planner.ENABLE_TRUNK: _enable_trunk,
        planner.WAIT_PARENT_UNBOUND: _wait_parent_unbound,
        planner.UNBIND_PARENT: _unbind_parent,
        planner.DELETE_TRUNK: _delete_trunk,
        planner.DELETE_PORTS: _delete_ports,
    }


def _record(plan, trunk_id):
    return next(t for t in plan.footprint.trunks if t.trunk_id == trunk_id)


def _neutron_not_found(exc):
    """Neutron's own 404 (``PortNotFound``, ``TrunkNotFound``...)."""
    kind = _error_type(exc)
    return bool(kind) and kind.endswith('NotFound')


class _Counted:
    """A client whose method calls are counted (by method name)."""

    def __init__(self, client, counts):
        self._client = client
        self._counts = counts
        self.raw = client

    def tally(self, name):
        """Count a call made on :attr:`raw` as ``name``."""
        self._counts[name] = self._counts.get(name, 0) + 1

    def __getattr__(self, name):
        attr = getattr(self._client, name)
        if not callable(attr):
            return attr

        def counted(*args, **kwargs):
            self._counts[name] = self._counts.get(name, 0) + 1
            return attr(*args, **kwargs)
        return counted


class CountingClients:
    """The three clients the library uses, counting every API call."""

    def __init__(self, clients):
        self.calls = {}
        for name in ('trunks_client', 'ports_client', 'servers_client'):
            setattr(self, name, _Counted(getattr(clients, name), self.calls))


def _kind(step):
    if step.action in (planner.ENABLE_TRUNK, planner.DELETE_TRUNK):
        return leftovers.TRUNK
    return leftovers.PORT


def _left(found, actions, kept_ids, otherwise='not removed by this run'):
    """Split what still exists into kept and left, each with a reason."""
    reasons = {}
    for action in actions:
        if action.outcome not in report.SUCCEEDED:
            reasons[action.id] = action.detail
    left, kept = [], []
    for res in found.present:
        entry = res.to_dict()
        if res.id in reasons:
            entry['reason'] = reasons[res.id]
        elif res.id in kept_ids:
            entry['reason'] = kept_ids[res.id]
            kept.append(entry)
            continue
        else:
            entry['reason'] = otherwise
        left.append(entry)
    return left, kept


def cleanup(clients, footprint, dry_run=False, keep_ports=False,
            all_projects=False, project_id=None, timeout=60, interval=1.0,
            unbind_stale=False, delete_parent=False, unbound_older_than=None,
            found=None, read_ports=None, read_trunks=None, now=None,
            journal=None, read_ports_later=None):
    """Inspect, plan and execute the cleanup of ``footprint``.

    Safe to run again: every step is derived from the cloud's state when
    the run starts, and every write is guarded by it, so a second run
    after a complete one does nothing.

    :param clients: an object with ``servers_client``, ``ports_client`` and
        ``trunks_client`` (a tempest ``Manager`` is one).
    :param footprint: what :func:`~.footprint.record_server` recorded.
    :param dry_run: read only; the report says what would be done.
    :param keep_ports: delete the trunk but keep every port.
    :param delete_parent: delete the parent port even when Nova did not
        create it; by default it is kept, as Nova keeps it.
    :param all_projects: act on resources of any project (admin only).
    :param project_id: act on this project's resources (an admin acting
        for a project); by default, the credentials' own project.
    :param unbind_stale: unbind a parent port that still names a gone
        server instead of waiting for Nova to (admin only).
    :param unbound_older_than: a timedelta: also clean a trunk no deleted
        server is proven to have used, once it and its parent have not
        changed for that long (see :func:`~.planner.plan`).
    :param timeout: seconds each wait or retried write may take.
    :param interval: seconds between two polls or tries.
    :param found: the footprint's :class:`~.leftovers.Leftovers`, when the
        caller has just read them; every write is still guarded.
    :param read_ports: see :class:`Executor`.
    :param read_trunks: see :class:`Executor`.
    :param read_ports_later: see :class:`Executor`.
    :param now: the current time (UTC), for tests.
    :param journal: a :class:`~.journal.Journal` that holds the footprint
        from before its first write until nothing of it can be lost: the
        next run finds there what this one could not finish.
    :returns: :class:`~.report.Report`; its ``calls`` are this run's own
        (reads shared with other runs are not in them).
    :raises InvalidOptions: the credentials have no project and neither
        ``all_projects`` nor ``project_id`` says which to act on.
    """
    clients = CountingClients(clients)
    executor = Executor(clients, timeout=timeout, interval=interval,
                        read_ports=read_ports, read_trunks=read_trunks,
                        read_ports_later=read_ports_later)
    if found is None:
        found = executor.read('inspect footprint', lambda: leftovers.inspect(
            clients, footprint))
    project = evidence.scope(clients.trunks_client, all_projects, project_id)

    def make_plan(left):
        return planner.plan(left, keep_ports=keep_ports, project=project,
                            unbind_stale=unbind_stale,
                            delete_parent=delete_parent,
                            unbound_older_than=unbound_older_than, now=now)
    executor.replan = lambda: make_plan(leftovers.inspect(clients,
                                                          footprint))
    the_plan = make_plan(found)
    journaled = (journal is not None and not dry_run and not keep_ports and
                 bool(the_plan.steps))
    if journaled:
        journal.add(footprint)
    actions = executor.run(the_plan, dry_run=dry_run)
    if dry_run or all(a.outcome in report.SUCCEEDED for a in actions):
        # Every present resource had a step (or is kept on purpose), and
        # every step succeeded: nothing needs reading again.
        left, kept = _left(found, actions, the_plan.kept,
                           'dry run: nothing was written')
        if not dry_run:
            left = []
    else:
        try:
            after = executor.read('inspect footprint', lambda:
                                  leftovers.inspect(clients, footprint))
        except (lib_exc.RestClientException,) + CONNECTION_ERRORS as exc:
            # What is left cannot be told: say so for all that was there.
            after = found
            actions.append(report.Action(
                'inspect', 'footprint', ', '.join(footprint.trunk_ids),
                report.FAILED, 'not read again after the run: %s'
                % error_text(exc)))
        left, kept = _left(after, actions, the_plan.kept)
    result = report.Report(footprint=footprint, dry_run=dry_run,
                           actions=actions, left=left, kept=kept,
                           evidence=the_plan.evidence,
                           calls=dict(sorted(clients.calls.items())))
    if journal is not None and not dry_run and (result.clean or (
            journaled and not result.count(report.FAILED) and
            evidence.UNDECIDABLE not in {
                e['class'] for e in result.evidence.values()})):
        # Done, or what is left is in use: nothing to find again.
        journal.done(footprint)
    return result


def cleanup_many(clients, footprints, workers=8, progress=None, **kwargs):
    """Clean many footprints, ``workers`` at a time.

    Each footprint is cleaned on its own (plan, execute), so one that
    fails or is refused never stops the others: an error of one becomes
    its own failed report. They are inspected together first (each on its
    own if that fails), and their ports re-read together before each
    write (:class:`SharedReader`), so the reads do not grow with their
    number. A worker whose trunk is deleted hands its place to the next
    footprint while its ports are read again: that footprint's read of
    its parent reads them too, and no more than ``workers`` write at once.

    :param progress: called with each report as it completes.
    :param kwargs: as for :func:`cleanup`.
    :returns: the reports, in the order of ``footprints``.
    """
    if workers < 1:
        raise errors.InvalidOptions('workers must be at least 1, got %s'
                                    % workers)
    if footprints and not (kwargs.get('all_projects') or
                           kwargs.get('project_id')):
        # A batch with no project to keep to writes nothing: the token's
        # project is known once a call has authenticated.
        if evidence.own_project(clients.trunks_client) is None:
            Executor(clients, timeout=kwargs.get('timeout', 60),
                     interval=kwargs.get('interval', 1.0)).read(
                'authenticate', lambda: clients.trunks_client.list_trunks(
                    limit=1))
        evidence.scope(clients.trunks_client)
    try:
        found = leftovers.inspect_many(clients, footprints)
    except Exception as exc:
        LOG.warning('footprints not read together (%s): each is read on '
                    'its own', error_text(exc))
        found = [None] * len(footprints)
    parties = min(workers, len(footprints))
    traffic = Traffic()
    shared = dict(parties=parties, gather=READ_GATHER_BUSY, traffic=traffic)
    readers = {
        'read_ports': SharedReader(clients.ports_client.list_ports, 'ports',
                                   **shared),
        'read_trunks': SharedReader(clients.trunks_client.list_trunks,
                                    'trunks', **shared)}
    remaining = [len(footprints)]
    for reader in readers.values():
        reader.leave(len(footprints))
    lock = threading.Lock()
    slots = _Slots(workers)

    def read_ports_later(ids):
        slots.give()
        try:
            found = readers['read_ports'](ids, follow=True)
            read_at = time.monotonic()
        finally:
            slots.take(returning=True)
        if time.monotonic() - read_at > READ_GATHER_BUSY:
            # The place came back late (the next footprint waited on
            # Neutron): read again rather than meet a 412 per port.
            found = readers['read_ports'](ids)
        return found

    def one(footprint, seen):
        if not slots.take():
            return None
        try:
            return cleanup(clients, footprint, found=seen, **kwargs,
                           read_ports_later=read_ports_later, **readers)
        except Exception as exc:
            # Whatever it was, it is this footprint's alone: its report
            # says so, and the others go on.
            LOG.exception('cleanup of trunk(s) %s failed',
                          ', '.join(footprint.trunk_ids))
            return report.failed(footprint, kwargs.get('dry_run', False),
                                 '%s: %s' % (type(exc).__name__,
                                             error_text(exc)))
        finally:
            slots.give()
            with lock:
                remaining[0] -= 1
                left = remaining[0]
            for reader in readers.values():
                reader.leave(left)

    # Twice the workers: those that wait for a read hold no place.
    pool = futures.ThreadPoolExecutor(max_workers=2 * workers)
    try:
        jobs = [pool.submit(one, fp, lo)
                for fp, lo in zip(footprints, found)]
        for job in futures.as_completed(jobs):
            if progress is not None:
                progress(job.result())
    except BaseException:
        # Interrupted: what has not started does not start.
        slots.close()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return [job.result() for job in jobs]
