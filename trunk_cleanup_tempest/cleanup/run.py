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

"""The library's entry points: clean one footprint, or many at once.

:func:`cleanup` reads what a footprint left, plans its cleanup, has the
plan carried out (:mod:`~.executor`) and reports what is left and why;
a journal, when given, holds the footprint until nothing of it can be
lost. :func:`cleanup_many` cleans many footprints at once, each on its own
so one that fails never stops the others, with their re-reads shared
(:mod:`~.reading`) so the calls do not grow with their number.
"""

from concurrent import futures
import threading
import time

from oslo_log import log as logging
from tempest.lib import exceptions as lib_exc

from trunk_cleanup_tempest.cleanup import counting
from trunk_cleanup_tempest.cleanup import errors
from trunk_cleanup_tempest.cleanup import evidence
from trunk_cleanup_tempest.cleanup import executor
from trunk_cleanup_tempest.cleanup import leftovers
from trunk_cleanup_tempest.cleanup import planner
from trunk_cleanup_tempest.cleanup import reading
from trunk_cleanup_tempest.cleanup import report

LOG = logging.getLogger(__name__)

# Seconds a shared re-read in a batch may wait for other workers to ask
# too, while the cloud is busy with their writes (see reading.SharedReader).
# No room among the writes is held meanwhile, so the cloud stays as busy.
READ_GATHER_BUSY = 2.0


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
            journal=None, read_ports_later=None, deletes=None):
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
    :param read_ports: see :class:`~.executor.Executor`.
    :param read_trunks: see :class:`~.executor.Executor`.
    :param read_ports_later: see :class:`~.executor.Executor`.
    :param deletes: see :class:`~.executor.Executor`.
    :param now: the current time (UTC), for tests.
    :param journal: a :class:`~.journal.Journal` that holds the footprint
        from before its first write until nothing of it can be lost: the
        next run finds there what this one could not finish.
    :returns: :class:`~.report.Report`; its ``calls`` are this run's own
        (reads shared with other runs are not in them).
    :raises InvalidOptions: the credentials have no project and neither
        ``all_projects`` nor ``project_id`` says which to act on.
    """
    clients = counting.CountingClients(clients)
    engine = executor.Executor(clients, timeout=timeout, interval=interval,
                               read_ports=read_ports, read_trunks=read_trunks,
                               read_ports_later=read_ports_later,
                               deletes=deletes)
    if found is None:
        found = engine.read('inspect footprint', lambda: leftovers.inspect(
            clients, footprint))
    project = evidence.scope(clients.trunks_client, all_projects, project_id)

    def make_plan(left):
        return planner.plan(left, keep_ports=keep_ports, project=project,
                            unbind_stale=unbind_stale,
                            delete_parent=delete_parent,
                            unbound_older_than=unbound_older_than, now=now)
    engine.replan = lambda: make_plan(leftovers.inspect(clients, footprint))
    the_plan = make_plan(found)
    journaled = (journal is not None and not dry_run and not keep_ports and
                 bool(the_plan.steps))
    if journaled:
        journal.add(footprint)
    actions = engine.run(the_plan, dry_run=dry_run)
    if dry_run or all(a.outcome in report.SUCCEEDED for a in actions):
        # Every present resource had a step (or is kept on purpose), and
        # every step succeeded: nothing needs reading again.
        left, kept = _left(found, actions, the_plan.kept,
                           'dry run: nothing was written')
        if not dry_run:
            left = []
    else:
        try:
            after = engine.read('inspect footprint', lambda:
                                leftovers.inspect(clients, footprint))
        except (lib_exc.RestClientException,) + \
                errors.CONNECTION_ERRORS as exc:
            # What is left cannot be told: say so for all that was there.
            after = found
            actions.append(report.Action(
                'inspect', 'footprint', ', '.join(footprint.trunk_ids),
                report.FAILED, 'not read again after the run: %s'
                % errors.error_text(exc)))
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
    write (:class:`~.reading.SharedReader`), so the reads do not grow with
    their number. A worker whose trunk is deleted hands its place to the next
    footprint while its ports are read again: that footprint's read of
    its parent reads them too. A footprint's port deletes go at once, on
    ``workers`` threads the batch shares, in the room the batch's other
    writes leave: no more than ``workers`` writes are in flight at once
    (:class:`~.reading.Traffic`). :func:`calling_threads` says how many
    connections its clients' pool should hold.

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
            executor.Executor(clients, timeout=kwargs.get('timeout', 60),
                              interval=kwargs.get('interval', 1.0)).read(
                'authenticate', lambda: clients.trunks_client.list_trunks(
                    limit=1))
        evidence.scope(clients.trunks_client)
    try:
        found = leftovers.inspect_many(clients, footprints)
    except Exception as exc:
        LOG.warning('footprints not read together (%s): each is read on '
                    'its own', errors.error_text(exc))
        found = [None] * len(footprints)
    # Each footprint asks once at a time: its workers, and as many that
    # handed their place on while their ports are read again.
    parties = min(2 * workers, len(footprints))
    traffic = reading.Traffic(limit=workers)
    shared = dict(parties=parties, gather=READ_GATHER_BUSY, traffic=traffic)
    readers = {
        'read_ports': reading.SharedReader(clients.ports_client.list_ports,
                                           'ports', **shared),
        # Read while a trunk's room is held (the parent's read took it):
        # nothing to gather for.
        'read_trunks': reading.SharedReader(
            clients.trunks_client.list_trunks, 'trunks',
            **dict(shared, gather=0.0))}
    remaining = [len(footprints)]
    for reader in readers.values():
        reader.leave(len(footprints))
    lock = threading.Lock()
    slots = reading.Slots(workers)

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
                           read_ports_later=read_ports_later,
                           deletes=deletes, **readers)
        except Exception as exc:
            # Whatever it was, it is this footprint's alone: its report
            # says so, and the others go on.
            LOG.exception('cleanup of trunk(s) %s failed',
                          ', '.join(footprint.trunk_ids))
            return report.failed(footprint, kwargs.get('dry_run', False),
                                 '%s: %s' % (type(exc).__name__,
                                             errors.error_text(exc)))
        finally:
            slots.give()
            with lock:
                remaining[0] -= 1
                left = remaining[0]
            for reader in readers.values():
                reader.leave(left)

    # Twice the workers: those that wait for a read hold no place.
    pool = futures.ThreadPoolExecutor(max_workers=2 * workers)
    deletes = futures.ThreadPoolExecutor(max_workers=workers,
                                         thread_name_prefix='port-deletes')
    try:
        jobs = [pool.submit(one, fp, lo)
                for fp, lo in zip(footprints, found)]
        for job in futures.as_completed(jobs):
            if progress is not None:
                progress(job.result())
    except BaseException:
        # Interrupted: what has not started does not start; a step under
        # way finishes its port deletes.
        slots.close()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    finally:
        # Its footprints have waited for their port deletes, unless
        # interrupted again: then not waited for twice. One submitted
        # after this goes on its footprint's own thread (see
        # executor._at_once).
        deletes.shutdown(wait=False)
    pool.shutdown(wait=True)
    return [job.result() for job in jobs]


def calling_threads(workers):
    """Threads of :func:`cleanup_many` that may call the cloud at once.

    Its workers and as many port deletes, besides the shared read that
    :func:`~trunk_cleanup_tempest.clients.from_cloud` makes room for: its
    clients' ``workers``, so that no connection is thrown away.
    """
    return 2 * workers
