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
import functools
import json
import threading
import time

from oslo_log import log as logging
from tempest.lib import exceptions as lib_exc

from trunk_cleanup_tempest.cleanup import errors
from trunk_cleanup_tempest.cleanup import leftovers
from trunk_cleanup_tempest.cleanup import listing
from trunk_cleanup_tempest.cleanup import planner
from trunk_cleanup_tempest.cleanup import reading
from trunk_cleanup_tempest.cleanup import report

LOG = logging.getLogger(__name__)


class _Outcome(Exception):
    """Ends a retried call early with a final outcome."""

    def __init__(self, outcome, detail):
        super().__init__(detail)
        self.outcome = outcome
        self.detail = detail


class _TryAtOnce(str):
    """A reason to try again at once: the port was seen being released.

    As Neutron and its agent release a deleted trunk's subports. The next
    try is guarded by the revision of the read that showed it, so a wait
    would make it no likelier to land. Any other change, or one the
    caller cannot see (Neutron shows ``binding:*`` to admins only), may
    be the first step of a take-over, and is waited for as before.
    """


# What releasing a port changes, and to what: a deleted trunk's subport
# or a deleted server's port loses its holder and binding, and its agent
# marks it DOWN.
RELEASED = {'device_id': '', 'device_owner': '', 'binding:host_id': '',
            'binding:profile': {}, 'binding:vif_details': {},
            'binding:vif_type': 'unbound', 'status': 'DOWN'}
# What every write changes, whoever makes it.
RESTAMPED = ('revision_number', 'updated_at')


def _at_once(pool, call, items):
    """``[call(item) for item in items]``, the calls at once on ``pool``.

    An item whose job cannot be queued (no thread to be had, the pool
    shut down, whatever submit() raised) is called here. submit() may
    have queued the job before it failed to start a thread for it, so
    whichever of the two comes first claims the item and the other does
    nothing: no port is deleted by a job left behind, after its outcome
    was reported.
    """
    results = {item: futures.Future() for item in items}
    claimed = set()
    lock = threading.Lock()

    def claim(item):
        with lock:
            if item in claimed:
                return
            claimed.add(item)
        try:
            results[item].set_result(call(item))
        except BaseException as exc:
            results[item].set_exception(exc)

    for item in items:
        try:
            pool.submit(claim, item)
        except Exception:
            claim(item)
    # Every call ends before any outcome, or error, is reported.
    futures.wait(results.values())
    return [results[item].result() for item in items]


class Executor:
    """Carries out the steps of a :class:`~.plan.Plan`.

    Every write is guarded by the state the plan was made from: Neutron's
    ``If-Match: revision_number=N`` on each port and trunk update or
    delete (Neutron answers 412 when the resource changed since), and a
    fresh read of the parent port before the trunk is touched. A changed
    resource is read again and the write is tried again only if nothing
    shows new use (a holder, a new subport); otherwise it is refused.

    :param read_ports: reads ports by ID (``{id: port}``) right before they
        are written; a :class:`~.reading.SharedReader` when many run at once.
    :param read_ports_later: the same for the ports of a ``delete_ports``
        step, which may wait for another worker's read (their deletes are
        guarded by the revisions it gives); ``read_ports`` by default.
    :param read_trunks: the same for trunks.
    :param replan: makes a fresh :class:`~.planner.Plan` from a fresh
        read; a trunk that changed since it was planned is written only
        if that plan still cleans it.
    :param deletes: a :class:`concurrent.futures.Executor` the ports of a
        ``delete_ports`` step are deleted on, at once; by default one
        after the other. Never the executor this cleanup runs on: its
        threads would wait for themselves. Only port deletes go there:
        each is guarded by its own revision, so waiting for a thread, or
        for room among the batch's writes, does not weaken it.
    """

    # Waits back off from ``interval`` to at most this many times it.
    MAX_BACKOFF_FACTOR = 4

    def __init__(self, clients, timeout=60, interval=1.0, read_ports=None,
                 read_trunks=None, replan=None, read_ports_later=None,
                 deletes=None):
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
        self.traffic = (getattr(read_ports, 'traffic', None) or
                        reading.Traffic())
        # The revision each trunk and port is expected at: as planned,
        # then as this run's own writes left it.
        self.revisions = {}
        # Reads everything again and plans anew, when a trunk changed.
        self.replan = replan
        self.deletes = deletes

    def _retry(self, what, call, on_error=None, resource=None):
        """Call ``call`` until it returns, or raise a final _Outcome.

        ``call`` returns True when done, False to be called again; Neutron's
        own 404 for ``resource`` (``(kind, id)``) ends with "already gone",
        any other 404 (a proxy's, a wrong endpoint's, Neutron's of another
        resource) proves nothing and fails. Between
        tries the wait doubles, from ``interval`` up to
        ``MAX_BACKOFF_FACTOR`` times it, until the deadline. ``on_error(exc)``
        sees every other error first: it may end the retries (raise
        _Outcome) or return a reason to try again after an error that is
        otherwise final. A :class:`_TryAtOnce` reason is tried again at
        once, if it is the first: after a wait, or at a second change, the
        resource is waited for as any other.
        """
        deadline = time.monotonic() + self.timeout
        backoff = self.interval
        last = None
        first = True
        while True:
            reason = None
            try:
                if call():
                    return
            except reading.NoRoom as exc:
                # No room among the batch's writes came in time (they
                # hang, or many wait): this write is not sent.
                raise _Outcome(report.FAILED, '%s: %s' % (what, exc))
            except lib_exc.NotFound as exc:
                if resource and errors.neutron_not_found(exc, *resource):
                    raise _Outcome(report.GONE, errors.error_text(exc))
                raise _Outcome(report.FAILED, 'a 404 that is not '
                               'Neutron\'s own for it, so nothing is '
                               'known: %s' % errors.error_text(exc))
            except (lib_exc.RestClientException,) + \
                    errors.CONNECTION_ERRORS as exc:
                # A lost connection too: every write here is safe to
                # repeat (a repeat of one that landed is a 404).
                reason = on_error(exc) if on_error is not None else None
                if not reason and not errors.retriable(exc):
                    raise _Outcome(report.FAILED, errors.error_text(exc))
                last = reason or errors.error_text(exc)
                LOG.debug('%s: %s; trying again', what, last)
            if (first and isinstance(reason, _TryAtOnce) and
                    time.monotonic() < deadline):
                first = False
                continue
            first = False
            if time.monotonic() + backoff > deadline:
                raise _Outcome(report.FAILED, '%s: still not done after '
                               '%ss%s' % (what, self.timeout,
                                          ': %s' % last if last else ''))
            time.sleep(backoff)
            backoff = min(backoff * 2,
                          self.interval * self.MAX_BACKOFF_FACTOR)

    def _outcome(self, what, call, on_error=None, resource=None):
        """(outcome, detail) of :meth:`_retry`."""
        try:
            self._retry(what, call, on_error, resource)
        except _Outcome as end:
            return end.outcome, end.detail
        return report.DONE, ''

    def read(self, what, call):
        """A read retried like a write; its last error is raised."""
        result = {}

        def once():
            try:
                result['value'] = call()
            except (lib_exc.RestClientException,) + \
                    errors.CONNECTION_ERRORS as exc:
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
                    detail = '%s: %s' % (type(exc).__name__,
                                         errors.error_text(exc))
                    done = [report.Action(step.action, _kind(step), rid,
                                          report.FAILED, detail)
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

    def _send(self, client, name, path, resource_id, body=None,
              wait=False, reserved=False):
        """A guarded write: ``If-Match`` the revision this run expects.

        tempest.lib's ``update_*``/``delete_*`` take no headers, so this
        is their request, with the header, counted under their ``name``.

        :param wait: wait for room among the batch's writes, right before
            it is sent (see :class:`~.reading.Traffic`).
        :param reserved: its room was taken before its guard read.
        """
        getattr(client, 'tally', lambda _name: None)(name)
        client = getattr(client, 'raw', client)
        uri = '%s/%s' % (client.uri_prefix, path)
        headers = self._if_match(resource_id)
        method, expected = ('PUT', 200) if body is not None else (
            'DELETE', 204)
        with self.traffic.writing(wait=wait, reserved=reserved,
                                  timeout=self.timeout):
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

    def _guard_read(self, port_id, room):
        """Read ``port_id`` once ``room`` is taken for the write it guards.

        A shared read takes it right before it is sent; a read of this
        worker's own, before it starts.
        """
        if getattr(self.read_ports, 'traffic', None) is None:
            room.take()
            return self.read_ports([port_id])
        while True:
            found = self.read_ports([port_id], room=room)
            if room.settled:
                room.check()
                return found
            # Those who asked first took the room there was: the next
            # read takes this one, if in time.
            if room.deadline is not None and (
                    time.monotonic() >= room.deadline):
                raise reading.NoRoom(self.traffic.no_room(room.timeout))

    def _unchanged_trunk(self, plan, trunk_id, room):
        """Read the parent (and so the trunk) right now; refuse new use.

        The parent may have no holder and the trunk only the subports it
        was planned with. One read does both where Neutron shows the
        parent's ``trunk_details``; else the trunk is read too, then the
        parent again. ``room``, the write's among the batch's, is taken
        before the reads. The write that follows is guarded by the
        revision the trunk was planned at (or this run's last write
        left): a change since is a 412, and :meth:`_replan` decides.
        """
        parent_id = _record(plan, trunk_id).parent_port_id
        parent = self._seen_parent(
            plan, trunk_id, parent_id, self._guard_read(parent_id, room))
        details = parent.get('trunk_details') or {}
        if details.get('trunk_id') == trunk_id:
            current = [s['port_id'] for s in details.get('sub_ports', ())]
        else:
            trunk = self.read_trunks([trunk_id]).get(trunk_id)
            if trunk is None:
                self._not_in_read(leftovers.TRUNK, trunk_id)
            current = [s['port_id'] for s in trunk.get('sub_ports', ())]
            # Nova may have bound the parent while the trunk was read,
            # and on ML2/OVN that leaves the trunk's revision as it was:
            # the parent is read again, the last read before the write.
            self._seen_parent(plan, trunk_id, parent_id, listing.by_id(
                self.clients.ports_client.list_ports, 'ports', [parent_id]))
        planned = set(plan.leftovers.trunks[trunk_id].sub_ports or ())
        new = sorted(set(current) - planned)
        if new:
            raise _Outcome(report.REFUSED, 'trunk %s has subport(s) %s it '
                           'did not have when it was read: it is in use'
                           % (trunk_id, ', '.join(new)))

    def _seen_parent(self, plan, trunk_id, parent_id, answer):
        """The parent in ``answer``, if no holder took it.

        A parent outlives its trunk: unless the trunk is gone, a read
        without it only cannot be trusted, and proves nothing free.
        """
        parent = answer.get(parent_id)
        if parent is None:
            self._show_trunk(trunk_id)
            raise _Outcome(report.FAILED, 'parent port %s was not in the '
                           'read: nothing proves it is free' % parent_id)
        self._unheld(plan, leftovers.port_state(parent), 'parent port')
        return parent

    def _replan(self, plan, trunk_id):
        """The trunk changed since it was planned: read all of it again.

        It is written only if a fresh plan still cleans it; the write is
        then guarded by its fresh revision.
        """
        trunk = self._show_trunk(trunk_id)
        if self.replan is not None:
            fresh = self.replan()
            if not any(s.action == planner.DELETE_TRUNK and
                       s.trunk_id == trunk_id for s in fresh.steps) or any(
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

        :returns: the step's one action, as every step returns its actions.
        """
        tid = step.trunk_id

        def call():
            # Room for the write is taken before the read that guards
            # it: nothing waits between them.
            with self.traffic.room(timeout=self.timeout) as room:
                self._unchanged_trunk(plan, tid, room)
                try:
                    return write()
                except lib_exc.PreconditionFailed:
                    pass
            self._replan(plan, tid)
            return False

        outcome, detail = self._outcome(what, call,
                                        resource=(leftovers.TRUNK, tid))
        return [report.Action(step.action, leftovers.TRUNK, tid, outcome,
                              detail)]

    # -- steps ------------------------------------------------------------

    def _enable_trunk(self, plan, step):
        tid = step.trunk_id

        def write():
            body = self._send(self.clients.trunks_client, 'update_trunk',
                              'trunks/%s' % tid, tid,
                              {'trunk': {'admin_state_up': True}},
                              reserved=True)
            self.revisions[tid] = body['trunk'].get('revision_number')
            return True

        return self._trunk_step(plan, step, 'enable trunk %s' % tid, write)

    def _wait_parent_unbound(self, plan, step):
        port_id = step.resource_ids[0]
        seen = {}

        def call():
            port = self._read_unheld(plan, port_id, 'parent port')
            seen['port'] = port
            # Nova's unbind clears the device and the host at once. A
            # host left alone is not Nova's to clear: Neutron's
            # TrunkInUse for it, if any, the trunk's delete tries again.
            return not port.device_id

        outcome, detail = self._outcome(
            'wait for port %s to be unbound' % port_id, call,
            resource=(leftovers.PORT, port_id))
        port = seen.get('port')
        if outcome == report.FAILED and port and port.device_id:
            detail = ('port %s still has device_id %s (owner %s, host '
                      '%s) after %ss' % (port_id, port.device_id,
                                         port.device_owner,
                                         _host(port.binding_host),
                                         self.timeout))
        return [report.Action(step.action, leftovers.PORT, port_id,
                              outcome, detail)]

    def _unbind_parent(self, plan, step):
        port_id = step.resource_ids[0]
        ports = self.clients.ports_client

        def call():
            port = self._read_unheld(plan, port_id, 'parent port')
            if port.binding_host is None:
                raise _Outcome(report.FAILED, 'an unbind needs the port\'s '
                               'binding:host_id, which Neutron shows to '
                               'an admin only')
            if not port.bound:
                raise _Outcome(report.GONE, 'already unbound')
            self._as_planned(plan, port)
            # Guarded by the revision just read: a server that takes the
            # port meanwhile makes Neutron refuse (412), and it is read
            # again.
            self.revisions[port_id] = port.revision_number
            try:
                self._send(ports, 'update_port', 'ports/%s' % port_id,
                           port_id,
                           {'port': {'device_id': '', 'device_owner': '',
                                     'binding:host_id': ''}}, wait=True)
            except lib_exc.PreconditionFailed:
                return False
            return True

        outcome, detail = self._outcome('unbind port %s' % port_id, call,
                                        resource=(leftovers.PORT, port_id))
        return [report.Action(step.action, leftovers.PORT, port_id,
                              outcome, detail)]

    @staticmethod
    def _as_planned(plan, port):
        """End the step unless ``port`` is bound as the plan read it.

        The unbind is planned for the binding of a gone server: one that
        moved since, or a port something wired (ACTIVE), is not that.
        """
        planned = plan.leftovers.ports[port.id]
        # Nova may have cleared some of it meanwhile, not changed it.
        if (port.status == 'ACTIVE' or planned.binding_host is None or
                port.device_id not in ('', planned.device_id) or
                port.binding_host not in ('', planned.binding_host)):
            raise _Outcome(report.REFUSED, 'parent port %s changed since it '
                           'was planned: device %s on host %s, %s (planned: '
                           'device %s on host %s)' % (
                               port.id, port.device_id or 'none',
                               _host(port.binding_host), port.status,
                               planned.device_id or 'none',
                               _host(planned.binding_host)))

    def _delete_trunk(self, plan, step):
        tid = step.trunk_id

        def write():
            self._send(self.clients.trunks_client, 'delete_trunk',
                       'trunks/%s' % tid, tid, reserved=True)
            return True

        return self._trunk_step(plan, step, 'delete trunk %s' % tid, write)

    def _delete_ports(self, plan, step):
        ports = self.clients.ports_client
        ours = set(plan.footprint.trunk_ids)
        held_by_nova = set()
        # One read for the whole step (shared with other workers): what
        # holds each port now, and the revision its delete is guarded by.
        # The trunk's delete has just changed its subports (Neutron
        # releases them), so the planned revisions would mostly be stale.
        try:
            read = self.read('read ports %s' % ', '.join(step.resource_ids),
                             lambda: self.read_ports_later(step.resource_ids))
            current = {pid: leftovers.port_state(port)
                       for pid, port in read.items()}
        except (lib_exc.RestClientException,) + \
                errors.CONNECTION_ERRORS as exc:
            return [report.Action(step.action, leftovers.PORT, pid,
                                  report.FAILED, 'not read again before '
                                  'its delete: %s' % errors.error_text(exc))
                    for pid in step.resource_ids]

        def on_error(pid, exc):
            pinned_by = errors.pinning_trunk(exc)
            if pinned_by and pinned_by not in ours:
                raise _Outcome(report.REFUSED,
                               '%s: not part of this footprint'
                               % errors.error_text(exc))
            if isinstance(exc, lib_exc.PreconditionFailed):
                # Changed since it was read: read it again.
                try:
                    body = self._show_port(pid)
                    port = self._unheld(plan, leftovers.port_state(body))
                except (lib_exc.RestClientException,) + \
                        errors.CONNECTION_ERRORS as read_exc:
                    return 'port %s not read again: %s' % (
                        pid, errors.error_text(read_exc))
                self.revisions[pid] = port.revision_number
                why = 'port %s changed since it was read' % pid
                return (_TryAtOnce(why) if _released(read[pid], body)
                        else why)
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
            self._send(ports, 'delete_port', 'ports/%s' % pid, pid,
                       wait=True)
            return True

        def outcome(pid):
            state = current.get(pid)
            holder = plan.leftovers.holder(state) if state else None
            if state is None:
                # Gone only on Neutron's word: else the read left it out.
                return self._outcome(
                    'read port %s' % pid, functools.partial(
                        self._not_in_read, leftovers.PORT, pid),
                    resource=(leftovers.PORT, pid))
            if holder:
                return report.REFUSED, 'port %s is now %s' % (pid, holder)
            self.revisions[pid] = state.revision_number
            return self._outcome('delete port %s' % pid,
                                 functools.partial(delete, pid),
                                 functools.partial(on_error, pid),
                                 (leftovers.PORT, pid))

        def one(pid):
            try:
                result = outcome(pid)
            except Exception as exc:
                # This port's alone: the others' outcomes stand.
                LOG.exception('delete of port %s', pid)
                result = (report.FAILED, '%s: %s' % (
                    type(exc).__name__, errors.error_text(exc)))
            return report.Action(step.action, leftovers.PORT, pid, *result)

        if self.deletes is None:
            return [one(pid) for pid in step.resource_ids]
        # Once the trunk is gone none of its ports waits for another, and
        # each delete is guarded by its own revision: they go at once.
        return _at_once(self.deletes, one, step.resource_ids)

    def _read_unheld(self, plan, port_id, label='port'):
        """The port as it is now; ends the step if it is gone or held."""
        return self._unheld(plan, leftovers.port_state(
            self._show_port(port_id)), label)

    def _show_port(self, port_id):
        """The port's body as it is now; ends the step if it is gone."""
        return self._show(leftovers.PORT, port_id)

    def _show_trunk(self, trunk_id):
        return self._show(leftovers.TRUNK, trunk_id)

    def _show(self, kind, resource_id):
        client = getattr(self.clients, '%ss_client' % kind)
        try:
            return getattr(client, 'show_' + kind)(resource_id)[kind]
        except lib_exc.NotFound as exc:
            if not errors.neutron_not_found(exc, kind, resource_id):
                raise
            raise _Outcome(report.GONE, errors.error_text(exc))

    def _not_in_read(self, kind, resource_id):
        """Left out of a list, yet shown: the list cannot be trusted."""
        self._show(kind, resource_id)
        raise _Outcome(report.FAILED, '%s %s was not in the read, though '
                       'Neutron shows it: the read cannot be trusted'
                       % (kind, resource_id))

    def _held_by_nova(self, plan, port_id):
        """Why a refused port delete is worth retrying, or None.

        Neutron (2025.1 on) lets only an admin or a service delete a port
        owned by ``compute:*``. Nova can bind the port of a server deleted
        while it was building after the plan read it unbound, and releases
        it soon after: until then the refusal is Nova's to lift.
        """
        try:
            port = self._read_unheld(plan, port_id)
        except (lib_exc.RestClientException,) + \
                errors.CONNECTION_ERRORS as exc:
            return 'port %s not read again: %s' % (port_id,
                                                   errors.error_text(exc))
        # Nova's own changes are expected: the next try is guarded by them.
        self.revisions[port_id] = port.revision_number
        if port.device_id and port.device_owner.startswith(
                leftovers.COMPUTE_OWNER_PREFIX):
            return ('Nova has not released it yet (owner %s, device %s): '
                    'only an admin may delete it before then'
                    % (port.device_owner, port.device_id))
        return None

    # The dispatch table of run(), built once with the class. An action
    # not in it is a KeyError, which run() reports as that step failed.
    STEPS = {
        planner.ENABLE_TRUNK: _enable_trunk,
        planner.WAIT_PARENT_UNBOUND: _wait_parent_unbound,
        planner.UNBIND_PARENT: _unbind_parent,
        planner.DELETE_TRUNK: _delete_trunk,
        planner.DELETE_PORTS: _delete_ports,
    }


def _host(binding_host):
    """A port's host as the report says it: None is not shown (not admin)."""
    return 'not shown' if binding_host is None else binding_host or 'none'


def _released(before, after):
    """Whether ``after`` shows a release of ``before``, and nothing else.

    At least one field must have changed to its released value: a change
    that shows only in the revision is not known to be a release.
    """
    if set(before) != set(after):
        return False
    changed = [key for key in before if key not in RESTAMPED and
               before[key] != after[key]]
    return bool(changed) and all(
        key in RELEASED and after[key] == RELEASED[key] for key in changed)


def _record(plan, trunk_id):
    return next(t for t in plan.footprint.trunks if t.trunk_id == trunk_id)


def _kind(step):
    if step.action in (planner.ENABLE_TRUNK, planner.DELETE_TRUNK):
        return leftovers.TRUNK
    return leftovers.PORT
