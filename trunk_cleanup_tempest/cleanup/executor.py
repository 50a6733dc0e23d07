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
owns the port is retried too. 404 means someone else already did the work.
Before a port is deleted it is read again, so a server booted on it since
the plan was made is never hurt.
"""

from concurrent import futures
import functools
import re
import threading
import time

from oslo_log import log as logging
from tempest.lib import exceptions as lib_exc
import urllib3

from trunk_cleanup_tempest.cleanup import errors
from trunk_cleanup_tempest.cleanup import leftovers
from trunk_cleanup_tempest.cleanup import planner
from trunk_cleanup_tempest.cleanup import report

LOG = logging.getLogger(__name__)

# Seconds a shared re-read of ports waits for other workers to ask too.
READ_GATHER = 0.4

# Neutron's 409 types that name the trunk a port is pinned by.
_PINNED_BY_TRUNK = ('PortInUseAsSubPort', 'PortInUseAsTrunkParent')
_TRUNK_IN_MESSAGE = re.compile(r'trunk ([0-9a-fA-F-]{36})')


def error_text(exc):
    """``Type: message`` from a Neutron or Nova error body."""
    body = getattr(exc, 'resp_body', None)
    if isinstance(body, dict):
        if 'message' in body:
            kind = body.get('type')
            return ('%s: %s' % (kind, body['message']) if kind
                    else body['message'])
    status = getattr(getattr(exc, 'resp', None), 'status', None)
    return 'HTTP %s %s' % (status, body) if status else str(exc)


def _error_type(exc):
    body = getattr(exc, 'resp_body', None)
    return body.get('type') if isinstance(body, dict) else None


# A request that may not have reached the cloud, or whose answer was lost:
# every write here is safe to repeat (a repeat of one that landed is a 404).
CONNECTION_ERRORS = (urllib3.exceptions.HTTPError, ConnectionError,
                     TimeoutError)


def _retriable(exc):
    """409, 5xx, a lost connection: the cloud may answer otherwise soon."""
    if isinstance(exc, CONNECTION_ERRORS + (lib_exc.Conflict,
                                            lib_exc.ServerFault)):
        return True
    status = getattr(getattr(exc, 'resp', None), 'status', 0)
    return isinstance(exc, lib_exc.UnexpectedResponseCode) and status >= 500


class _Outcome(Exception):
    """Ends a retried call early with a final outcome."""

    def __init__(self, outcome, detail):
        super().__init__(detail)
        self.outcome = outcome
        self.detail = detail


class SharedReader:
    """Coalesces the reads of concurrent workers into shared list calls.

    A worker that asks while a read is in flight waits for the next one,
    which serves every worker that asked meanwhile: eight workers
    re-reading their ports before deleting them cost about one call, not
    eight, and every answer is still read after the question was asked.
    The worker that leads a read first waits up to ``gather`` seconds for
    the others (less once all ``parties`` have asked, or a call's worth of
    IDs is in): a little latency for far fewer calls.

    :param list_call: a filtered list call, e.g. ``list_ports``.
    :param key: the list in its answer, e.g. ``'ports'``.
    :param parties: how many workers may ask at once.
    :param gather: seconds a read may wait for more askers.
    """

    def __init__(self, list_call, key, parties=1, gather=0.0):
        self.list_call = list_call
        self.key = key
        self.parties = parties
        self.gather = gather
        self.cond = threading.Condition()
        self.waiting = set()
        self.askers = 0
        self.collecting = 1
        self.served = 0
        self.busy = False
        self.items = {}

    def __call__(self, ids):
        """``{id: item}`` of those of ``ids`` that exist, read just now."""
        ids = set(ids)
        with self.cond:
            self.waiting |= ids
            self.askers += 1
            self.cond.notify_all()
            mine = self.collecting
            while self.served < mine and self.busy:
                self.cond.wait()
            if self.served < mine:
                # Lead: gather, then read everything asked for so far.
                self.busy = True
                deadline = time.monotonic() + self.gather
                while (self.askers < self.parties and
                       len(self.waiting) < leftovers.IDS_PER_CALL):
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
        return {i: self.items[i] for i in ids if self.items.get(i)}

    def _read(self, batch, generation):
        try:
            found = leftovers.by_id(self.list_call, self.key, batch)
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

    :param read_ports: reads ports by ID (``{id: port}``) right before they
        are deleted; a :class:`SharedReader` when many run at once.
    """

    # Waits back off from ``interval`` to at most this many times it.
    MAX_BACKOFF_FACTOR = 4

    def __init__(self, clients, timeout=60, interval=1.0, read_ports=None):
        if timeout <= 0 or interval <= 0:
            raise errors.InvalidOptions(
                'timeout and interval must be positive, got %s and %s'
                % (timeout, interval))
        self.clients = clients
        self.timeout = timeout
        self.interval = interval
        self.read_ports = read_ports or (
            lambda ids: leftovers.by_id(clients.ports_client.list_ports,
                                        'ports', ids))

    def _retry(self, what, call, on_error=None):
        """Call ``call`` until it returns, or raise a final _Outcome.

        ``call`` returns True when done, False to be called again; a 404
        ends with "already gone". Between tries the wait doubles, from
        ``interval`` up to ``MAX_BACKOFF_FACTOR`` times it, until the
        deadline. ``on_error(exc)`` sees every other error first: it may
        end the retries (raise _Outcome) or return a reason to try again
        after an error that is otherwise final.
        """
        deadline = time.monotonic() + self.timeout
        backoff = self.interval
        last = None
        while True:
            try:
                if call():
                    return
            except lib_exc.NotFound as exc:
                raise _Outcome(report.GONE, error_text(exc))
            except (lib_exc.RestClientException,) + CONNECTION_ERRORS as exc:
                last = on_error(exc) if on_error is not None else None
                if not last and not _retriable(exc):
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

    def _write(self, what, func, *args, on_error=None, **kwargs):
        def call():
            func(*args, **kwargs)
            return True
        try:
            self._retry(what, call, on_error)
        except _Outcome as end:
            return end.outcome, end.detail
        return report.DONE, ''

    def run(self, plan, dry_run=False):
        """Run every step of ``plan`` in order.

        :returns: the list of :class:`~.report.Action`
        """
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
                done = getattr(self, '_' + step.action)(plan, step)
            for action in done:
                LOG.info('%s', action)
            succeeded.append(all(a.outcome in report.SUCCEEDED
                                 for a in done))
            actions.extend(done)
        return actions

    def _enable_trunk(self, plan, step):
        outcome, detail = self._write(
            'enable trunk %s' % step.trunk_id,
            self.clients.trunks_client.update_trunk, step.trunk_id,
            admin_state_up=True)
        return [report.Action(step.action, leftovers.TRUNK,
                              step.trunk_id, outcome, detail)]

    def _remove_subports(self, plan, step):
        trunks = self.clients.trunks_client
        tid = step.trunk_id
        remaining = list(step.resource_ids)
        removed = []

        def call():
            try:
                body = trunks.delete_subports_from_trunk(
                    tid, [{'port_id': p} for p in remaining])
            except lib_exc.NotFound as exc:
                if _error_type(exc) != 'SubPortNotFound':
                    raise
                # Another cleaner removed some: remove what is still there.
                current = trunks.list_subports_of_trunk(tid)['sub_ports']
                remaining[:] = [s['port_id'] for s in current]
                return not remaining
            removed.extend(remaining)
            body = body.get('trunk', body)
            remaining[:] = [s['port_id'] for s in body.get('sub_ports', ())]
            return not remaining

        try:
            self._retry('remove subports from trunk %s' % tid, call)
            outcome, detail = report.DONE, ''
        except _Outcome as end:
            outcome, detail = end.outcome, end.detail
        recorded = {s.port_id for t in plan.footprint.trunks
                    if t.trunk_id == tid for s in t.subports}
        actions = []
        for pid in step.resource_ids:
            if pid in remaining and outcome != report.GONE:
                result = (outcome if outcome != report.DONE
                          else report.FAILED, detail)
            elif pid in removed:
                result = (report.DONE, '' if pid in recorded else
                          'not in the footprint: detached, kept')
            else:
                result = (report.GONE, detail or 'no longer a subport')
            actions.append(report.Action(step.action, leftovers.PORT,
                                         pid, *result))
        return actions

    def _wait_parent_unbound(self, plan, step):
        port_id = step.resource_ids[0]
        seen = {}

        def call():
            port = self._read_unheld(plan, port_id, 'parent port')
            seen['port'] = port
            return not port.device_id

        try:
            self._retry('wait for port %s to be unbound' % port_id, call)
            outcome, detail = report.DONE, ''
        except _Outcome as end:
            outcome, detail = end.outcome, end.detail
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
            ports.update_port(port_id, device_id='', device_owner='',
                              **{'binding:host_id': ''})
            return True

        try:
            self._retry('unbind port %s' % port_id, call)
            outcome, detail = report.DONE, ''
        except _Outcome as end:
            outcome, detail = end.outcome, end.detail
        return [report.Action(step.action, leftovers.PORT, port_id,
                              outcome, detail)]

    def _delete_trunk(self, plan, step):
        outcome, detail = self._write(
            'delete trunk %s' % step.trunk_id,
            self.clients.trunks_client.delete_trunk, step.trunk_id)
        return [report.Action(step.action, leftovers.TRUNK,
                              step.trunk_id, outcome, detail)]

    def _delete_ports(self, plan, step):
        ports = self.clients.ports_client
        # One read for the whole batch: what holds each port right now.
        current = {pid: leftovers.port_state(p) for pid, p in
                   self.read_ports(step.resource_ids).items()}
        ours = set(plan.footprint.trunk_ids)
        held_by_nova = set()

        def on_error(pid, exc):
            found = _TRUNK_IN_MESSAGE.search(error_text(exc))
            if (_error_type(exc) in _PINNED_BY_TRUNK and found and
                    found.group(1) not in ours):
                raise _Outcome(report.REFUSED,
                               '%s: not part of this footprint'
                               % error_text(exc))
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

        actions = []
        for pid in step.resource_ids:
            port = current.get(pid)
            holder = plan.leftovers.holder(port) if port else None
            if port is None:
                result = (report.GONE, '')
            elif holder:
                result = (report.REFUSED, 'port %s is now %s'
                          % (pid, holder))
            else:
                result = self._write('delete port %s' % pid,
                                     ports.delete_port, pid,
                                     on_error=functools.partial(
                                         on_error, pid))
            actions.append(report.Action(step.action, leftovers.PORT,
                                         pid, *result))
        return actions

    def _read_unheld(self, plan, port_id, label='port'):
        """The port as it is now; ends the step if it is gone or held."""
        try:
            port = leftovers.port_state(
                self.clients.ports_client.show_port(port_id)['port'])
        except lib_exc.NotFound as exc:
            raise _Outcome(report.GONE, error_text(exc))
        holder = plan.leftovers.holder(port)
        if holder:
            raise _Outcome(report.REFUSED,
                           '%s %s is now %s' % (label, port_id, holder))
        return port

    def _held_by_nova(self, plan, port_id):
        """Why a refused port delete is worth retrying, or None.

        Neutron (2025.1 on) lets only an admin or a service delete a port
        owned by ``compute:*``. Nova can bind the port of a server deleted
        while it was building after the plan read it unbound, and releases
        it soon after: until then the refusal is Nova's to lift.
        """
        port = self._read_unheld(plan, port_id)
        if port.device_id and port.device_owner.startswith(
                leftovers.COMPUTE_OWNER_PREFIX):
            return ('Nova has not released it yet (owner %s, device %s): '
                    'only an admin may delete it before then'
                    % (port.device_owner, port.device_id))
        return None


class _Counted:
    """A client whose method calls are counted (by method name)."""

    def __init__(self, client, counts):
        self._client = client
        self._counts = counts

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
            all_projects=False, timeout=60, interval=1.0,
            unbind_stale=False, keep_user_parents=False, found=None,
            read_ports=None):
    """Inspect, plan and execute the cleanup of ``footprint``.

    Safe to run again: every step is derived from the cloud's state when
    the run starts, so a second run after a complete one does nothing.

    :param clients: an object with ``servers_client``, ``ports_client`` and
        ``trunks_client`` (a tempest ``Manager`` is one).
    :param footprint: what :func:`~.footprint.record_server` recorded.
    :param dry_run: read only; the report says what would be done.
    :param keep_ports: delete the trunk but keep every port.
    :param keep_user_parents: keep a parent port Nova did not create, as
        Nova does (see :func:`~.planner.plan`).
    :param all_projects: act on resources of other projects (admin only).
    :param unbind_stale: unbind a parent port that still names a gone
        server instead of waiting for Nova to (admin only).
    :param timeout: seconds each wait or retried write may take.
    :param interval: seconds between two polls or tries.
    :param found: the footprint's :class:`~.leftovers.Leftovers`, when the
        caller has just read them; ports are read again before deletion.
    :param read_ports: see :class:`Executor`.
    :returns: :class:`~.report.Report`; its ``calls`` are this run's own
        (reads shared with other runs are not in them).
    """
    clients = CountingClients(clients)
    executor = Executor(clients, timeout=timeout, interval=interval,
                        read_ports=read_ports)
    if found is None:
        found = leftovers.inspect(clients, footprint)
    the_plan = planner.plan(found, keep_ports=keep_ports,
                            all_projects=all_projects,
                            unbind_stale=unbind_stale,
                            keep_user_parents=keep_user_parents)
    actions = executor.run(the_plan, dry_run=dry_run)
    if dry_run or all(a.outcome in report.SUCCEEDED for a in actions):
        # Every present resource had a step (or is kept on purpose), and
        # every step succeeded: nothing needs reading again.
        left, kept = _left(found, actions, the_plan.kept,
                           'dry run: nothing was written')
        if not dry_run:
            left = []
    else:
        left, kept = _left(leftovers.inspect(clients, footprint), actions,
                           the_plan.kept)
    return report.Report(footprint=footprint, dry_run=dry_run,
                         actions=actions, left=left, kept=kept,
                         calls=dict(sorted(clients.calls.items())))


def cleanup_many(clients, footprints, workers=8, progress=None, **kwargs):
    """Clean many footprints, ``workers`` at a time.

    Each footprint is cleaned on its own (plan, execute), so one that
    fails or is refused never stops the others; they are inspected
    together first, and their ports re-read together before deletion
    (:class:`SharedReader`), so the reads do not grow with their number.

    :param progress: called with each report as it completes.
    :param kwargs: as for :func:`cleanup`.
    :returns: the reports, in the order of ``footprints``.
    """
    if workers < 1:
        raise errors.InvalidOptions('workers must be at least 1, got %s'
                                    % workers)
    found = leftovers.inspect_many(clients, footprints)
    read_ports = SharedReader(clients.ports_client.list_ports, 'ports',
                              parties=workers, gather=READ_GATHER)
    with futures.ThreadPoolExecutor(max_workers=workers) as pool:
        jobs = [pool.submit(cleanup, clients, fp, found=lo,
                            read_ports=read_ports, **kwargs)
                for fp, lo in zip(footprints, found)]
        for job in futures.as_completed(jobs):
            if progress is not None:
                progress(job.result())
        return [job.result() for job in jobs]
