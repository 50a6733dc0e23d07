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

"""Clean a deleted server's trunk when Nova says it is gone.

The service listens for Nova's versioned notifications on the cloud's bus
(an oslo.messaging notification listener with a pool of its own, so other
consumers still get every message):

* ``instance.delete.start``: the server and its bound ports still exist, so
  its trunk footprint is recorded (the ports it names are also in the
  payload's ``ip_addresses``), and kept on disk until Nova lists the
  server ``DELETED``;
* ``instance.delete.end``: if Nova lists the server ``DELETED`` (it sends
  the end of a delete that failed too), the footprint is cleaned with the
  library: the trunk and its subports are deleted, and the parent port too
  only if Nova created it (Nova keeps a port it was given, and so does
  this service).

Two or more services may share the pool (active-active): RabbitMQ hands
each notification to one of them, so a delete's end often goes to another
service than its start. The one that recorded the start asks Nova's list
every few seconds, for all the deletes it awaits at once, and cleans what
it shows deleted. A service that sees only the end finds no ports in it
(Nova has forgotten them by then) and leaves the trunk to the one that
saw the start.

A periodic sweep of orphans whose server Nova proves deleted (and older
than a grace period) catches what a lost notification, a restart or an
earlier failure missed: every step is re-derived from the
cloud's state, so nothing is kept but what is in flight.
"""

import collections
from concurrent import futures
import datetime
import errno
import os
import ssl
import threading

from oslo_config import cfg
from oslo_log import log as logging
import oslo_messaging
from tempest.lib import exceptions as lib_exc

from trunk_cleanup_tempest import cleanup
from trunk_cleanup_tempest import clients as clients_mod
from trunk_cleanup_tempest.watch import awaiting as awaiting_mod

LOG = logging.getLogger(__name__)

TOPIC = 'versioned_notifications'
# Nova sets its control exchange in code, not in nova.conf: name it here.
EXCHANGE = 'nova'
POOL = 'trunk-cleanup'
EVENTS = r'^instance\.delete\.(start|end)$'
# Messages RabbitMQ may hand the service before it acknowledges any.
PREFETCH = 10
# The journal's folder for footprints whose server Nova is deleting.
AWAITING = 'awaiting'
# Seconds between asking Nova about the deletes awaited.
AWAIT_INTERVAL = 2.0
# Nova stamps a server's last update by the clock of the host that saved
# it, and a notification by the compute host's: allow for their skew.
CLOCK_MARGIN = datetime.timedelta(minutes=5)


def _payload(payload):
    """(server ID, project ID, port IDs) from a versioned instance payload."""
    data = payload.get('nova_object.data', payload) or {}
    ports = []
    for ip in data.get('ip_addresses') or ():
        port = (ip.get('nova_object.data', ip) or {}).get('port_uuid')
        if port and port not in ports:
            ports.append(port)
    return data.get('uuid'), data.get('tenant_id'), ports


def _sent_at(metadata):
    """When Nova sent a notification (oslo.messaging's ``timestamp``).

    Without one, when it arrived: a later bound, but still one that no
    trunk made after the delete was handled can pass.
    """
    sent = (metadata or {}).get('timestamp')
    when = cleanup.stamp_utc(str(sent or ''))
    if when is None:
        LOG.warning('a notification without a readable timestamp (%r): '
                    'trunks made before it arrived count as its server\'s',
                    sent)
        return _now()
    return when


def _now():
    return datetime.datetime.now(datetime.timezone.utc)


def _next_second(when):
    """The start of the whole second after ``when`` (None stays None)."""
    if when is None:
        return None
    return when.replace(microsecond=0) + datetime.timedelta(seconds=1)


# The journal is the library's: the command keeps one too.
Journal = cleanup.Journal


class Watcher:
    """Cleans trunks of deleted servers, on notification and by sweep.

    :param clients: admin clients (``trunks_client``, ``ports_client``,
        ``servers_client``): the service acts for every project.
    :param journal: a :class:`Journal`, so a restart resumes what a
        killed service was cleaning.
    """

    # How many deletes to remember while waiting for their other half (an
    # end whose start was never seen, a start whose end went to another
    # watch on the same queue, or was lost).
    MAX_REMEMBERED = 10000

    def __init__(self, clients, workers=8, timeout=60, interval=1.0,
                 sweep_older_than=None, journal=None, sweep_orphans=False,
                 max_wait=3600):
        self.clients = clients
        self.journal = journal
        # The footprints recorded at a delete's start, until Nova lists the
        # server deleted: a restart finds them.
        self.awaiting = journal and awaiting_mod.AwaitJournal(
            os.path.join(journal.folder, AWAITING))
        # Seconds after its start to give up a delete Nova has not
        # finished (one that failed, a server left in ERROR): its trunk is
        # left to the sweep.
        self.max_wait = max_wait
        self.timeout = timeout
        self.interval = interval
        self.sweep_older_than = sweep_older_than
        self.sweep_orphans = sweep_orphans
        self.pool = futures.ThreadPoolExecutor(max_workers=workers)
        self.workers = workers
        # server ID -> Awaited: deletes whose start was handled here.
        self.pending = collections.OrderedDict()
        # Servers whose delete ended before its start was handled.
        self.ended = collections.OrderedDict()
        # Trunks a cleanup is running for (one at a time each), and the
        # footprints that wait for them to be free.
        self.in_flight = {}
        self.parked = []
        self.lock = threading.Lock()
        self.stopped = threading.Event()

    def check_journal(self):
        """Raise ``OSError`` now if the journal cannot be written."""
        for journal in (self.journal, self.awaiting):
            if journal is not None:
                journal.check()

    # -- notifications ----------------------------------------------------

    def delete_started(self, server_id, port_ids, sent_at=None,
                       project_id=None):
        """Record the footprint while the server and its ports exist.

        Only trunks (and subport ports) made before Nova announced the
        delete (``sent_at``) are the server's: one handled late (a backlog,
        a notification delivered again) must not take a trunk the user
        built since on the parent port Nova kept.

        The footprint is cleaned once Nova lists the server deleted: at
        the delete's end, if it comes here, else by :meth:`await_deletes`.

        :returns: a future of the report when Nova already lists the
            server deleted and this service saw the end, else None.
        """
        sent_at = sent_at or _now()
        try:
            # While the server is there with its ports bound to it, the
            # trunks made before are its own, and so is a subport added to
            # one in the second Nova sent the delete (Neutron keeps whole
            # seconds). A trunk made in that second may be for the next
            # server on the port: it is left. Gone, or on no trunk any
            # more, it is found by the ports Nova named: its own project's
            # (Nova binds no other), so the footprint is that project's.
            footprint = cleanup.record(
                self.clients, server_id=server_id,
                server_ports=list(port_ids or ()),
                project_id=project_id, created_before=sent_at,
                subports_before=_next_second(sent_at))
        except cleanup.NotFound:
            return None
        if not footprint.trunks:
            return None
        entry = awaiting_mod.Awaited(footprint, sent_at)
        self._await(entry)
        with self.lock:
            ended = self.ended.pop(server_id, False)
        if ended:
            # Its end came first (a requeue): if Nova did delete it (the end
            # of a delete that failed comes too), clean now.
            return self._settle(server_id, entry)
        return None

    def delete_ended(self, server_id, project_id, port_ids, sent_at=None):
        """Clean the trunk of a server Nova has deleted.

        :param sent_at: as for :meth:`delete_started`.
        :returns: a future of the report, or None when the server stood on
            no trunk, as far as can be told yet, or Nova does not list it
            deleted (a delete that failed sends its end too).
        """
        with self.lock:
            entry = self.pending.get(server_id)
        if entry is not None:
            return self._settle(server_id, entry)
        footprint = cleanup.record_ports(self.clients, port_ids,
                                         server_id, project_id,
                                         created_before=sent_at)
        if footprint is None:
            LOG.info('server %s deleted: no trunk on its ports that '
                     'Neutron made before %s (as far as can be told yet)',
                     server_id, sent_at.isoformat() if sent_at else 'now')
            with self.lock:
                # Should its start still come, Nova is asked at once.
                self.ended[server_id] = True
                while len(self.ended) > self.MAX_REMEMBERED:
                    self.ended.popitem(last=False)
            return None
        return self._submit(footprint, 'server %s deleted' % server_id)

    def _await(self, entry):
        """Keep an entry until Nova lists its server deleted."""
        if self.awaiting is not None:
            # Before the start is acknowledged: should this service die
            # while another one handles the end, its restart cleans.
            self.awaiting.add(entry)
        with self.lock:
            self.pending[entry.footprint.server_id] = entry
            dropped = []
            while len(self.pending) > self.MAX_REMEMBERED:
                dropped.append(self.pending.popitem(last=False)[1])
        for old in dropped:
            self._give_up(old, 'too many deletes awaited')

    def _claim(self, server_id, entry):
        """Take ``entry`` for the caller, if it is still the one awaited."""
        with self.lock:
            if self.pending.get(server_id) is not entry:
                return False
            del self.pending[server_id]
            return True

    def _settle(self, server_id, entry, deletion=None):
        """Clean an awaited entry if Nova lists its server deleted.

        Only within ``max_wait`` of the deletion: after that, the parent
        port Nova kept may carry the user's next server, not bound yet.

        :returns: the cleanup's future, or None (not deleted yet, given up,
            or the entry was taken or replaced meanwhile).
        """
        if deletion is None:
            deletion = cleanup.deleted_since(
                self.clients.servers_client,
                entry.sent_at - CLOCK_MARGIN).get(server_id)
        if deletion is None or not self._claim(server_id, entry):
            return None
        age = (_now() - (deletion.when or entry.sent_at)).total_seconds()
        if age > self.max_wait:
            self._give_up(entry, '%s, %ds ago (more than %ss): its parent '
                          'port may carry a new server by now'
                          % (deletion.what, age, self.max_wait))
            return None
        LOG.info('server %s: %s', server_id, deletion.what)
        try:
            job = self._submit(entry.footprint, 'server %s deleted'
                               % server_id)
        except BaseException:
            with self.lock:
                self.pending.setdefault(server_id, entry)
            raise
        if self.awaiting is not None:
            try:
                # In the journal proper now.
                self.awaiting.done(entry)
            except OSError as exc:
                # Its cleanup runs; a restart finds it done.
                LOG.warning('server %s: awaited entry not removed (%s)',
                            server_id, exc)
        return job

    def await_deletes(self):
        """Clean each awaited footprint whose server Nova lists deleted.

        The delete's end may have gone to another service on the pool, or
        been lost. Nova's list is its own record of the delete (one list,
        every page, for all the deletes awaited); the cleanup still checks
        every port against the cloud before a write. An entry older than
        ``max_wait`` is given up once Nova has answered without listing
        its server deleted.

        :returns: the futures of the cleanups started.
        :raises: what Nova's list raised (after giving up nothing).
        """
        with self.lock:
            waiting = list(self.pending.items())
        if not waiting or self.stopped.is_set():
            return []
        since = min(e.sent_at for _, e in waiting) - CLOCK_MARGIN
        deleted = cleanup.deleted_since(self.clients.servers_client, since)
        now = _now()
        jobs = []
        for server_id, entry in waiting:
            if server_id not in deleted:
                if ((now - entry.sent_at).total_seconds() > self.max_wait
                        and self._claim(server_id, entry)):
                    self._give_up(entry, 'Nova has not listed it deleted '
                                  'in %ss' % self.max_wait)
                continue
            try:
                job = self._settle(server_id, entry, deleted[server_id])
            except Exception as exc:
                # Still awaited: tried again at the next pass.
                LOG.warning('server %s deleted: cleanup not started (%s)',
                            server_id, cleanup.error_text(exc))
                continue
            if job is not None:
                jobs.append(job)
        return jobs

    def _give_up(self, entry, why):
        LOG.warning('server %s: %s; its trunk(s) %s are left (to the sweep, '
                    'if it runs)', entry.footprint.server_id, why,
                    ', '.join(entry.footprint.trunk_ids))
        if self.awaiting is not None:
            self.awaiting.done(entry)

    def await_forever(self, interval):
        while not self.stopped.wait(interval):
            try:
                self.await_deletes()
            except Exception as exc:
                # The cloud down: asked again at the next interval.
                LOG.warning('deletes awaited not checked (%s); again in '
                            '%ss', cleanup.error_text(exc), interval)

    def _submit(self, footprint, why):
        """Clean ``footprint`` in the pool; None if it must wait.

        A notification delivered again, the journal's resume and the sweep
        may all name a trunk whose cleanup is running: one cleanup runs
        per trunk at a time. The same footprint again is that cleanup's;
        another one (a later server's on the same parent) is journaled and
        cleaned once the trunk is free.
        """
        trunks = set(footprint.trunk_ids)
        # Journaled before the notification is acknowledged: a service
        # killed from here on finds it again when it restarts.
        if self.journal is not None:
            self.journal.add(footprint)
        with self.lock:
            busy = trunks & set(self.in_flight)
            if busy:
                same = self.in_flight.get(min(busy)) == footprint
                if not same and (footprint, why) not in self.parked:
                    self.parked.append((footprint, why))
            else:
                self.in_flight.update(dict.fromkeys(trunks, footprint))
        if busy:
            LOG.info('%s: trunk(s) %s already being cleaned%s', why,
                     ', '.join(sorted(busy)), '' if same else
                     ': this footprint waits for that cleanup to end')
            return None
        try:
            return self.pool.submit(self._clean, footprint, why)
        except BaseException:
            self._release(footprint)
            raise

    def _release(self, footprint):
        """The footprint's trunks are free: start what waited for them."""
        with self.lock:
            for trunk_id in footprint.trunk_ids:
                self.in_flight.pop(trunk_id, None)
            ready = [(fp, why) for fp, why in self.parked
                     if not set(fp.trunk_ids) & set(self.in_flight)]
            self.parked = [p for p in self.parked if p not in ready]
        if self.stopped.is_set():
            # The journal holds them for the next start.
            return
        for fp, why in ready:
            try:
                self._submit(fp, why)
            except Exception:
                # It is in the journal: the next sweep resumes it.
                LOG.exception('%s: trunk(s) %s not resubmitted', why,
                              ', '.join(fp.trunk_ids))

    def _clean(self, footprint, why):
        try:
            return self._clean_now(footprint, why)
        except Exception:
            # The journal keeps it for the next sweep.
            LOG.exception('%s: cleanup of trunk(s) %s failed', why,
                          ', '.join(footprint.trunk_ids))
            raise
        finally:
            self._release(footprint)

    def _clean_now(self, footprint, why):
        # Like Nova (and by the library's default), keep a parent port
        # that the user gave the server.
        # The server's project's only: Neutron lets an admin (or a shared
        # network's owner) add another project's port to a trunk.
        report = cleanup.cleanup(self.clients, footprint,
                                 project_id=footprint.project_id,
                                 unbind_stale=True, timeout=self.timeout,
                                 interval=self.interval)
        # What failed is tried again at the next sweep; what was refused
        # belongs to someone else now.
        if self.journal is not None and not report.count(
                cleanup.FAILED):
            self.journal.done(footprint)
        LOG.info('%s: trunk(s) %s: %s', why, ', '.join(footprint.trunk_ids),
                 report.summary)
        return report

    # -- the sweep --------------------------------------------------------

    def resume(self):
        """At start: take up the work a stopped service left.

        A footprint recorded at a delete's start waits again for Nova to
        list its server deleted; the rest is cleaned.
        """
        if self.awaiting is not None:
            for entry in self.awaiting.pending():
                # Its age is kept: one awaited too long is given up at the
                # next pass, not cleaned.
                with self.lock:
                    self.pending.setdefault(entry.footprint.server_id, entry)
        return self._retry_journal()

    def _retry_journal(self):
        """Clean what the journal holds and no cleanup is running for."""
        pending = self.journal.pending() if self.journal else []
        with self.lock:
            # What a worker is cleaning right now is in the journal too.
            # A footprint waiting for a trunk is started when it is free.
            pending = [fp for fp in pending
                       if not set(self.in_flight) & set(fp.trunk_ids)]
        if pending:
            LOG.info('resuming %d footprint(s) from the journal',
                     len(pending))
        return [job for job in (self._submit(fp, 'resumed')
                                for fp in pending) if job is not None]

    def sweep(self):
        """Resume the journal, then clean every old enough orphan, once.

        Orphans only when asked for (``sweep_orphans``): they are every
        project's, not only the servers this service saw deleted.
        """
        jobs = self._retry_journal()
        orphans = []
        if self.sweep_orphans:
            # Only what the cloud proves: a trunk whose parent is merely
            # unbound may be waiting for a server that is still to come.
            orphans = [o for o in cleanup.find_orphans(
                self.clients, all_projects=True,
                older_than=self.sweep_older_than) if o.proven]
        if not orphans and not jobs:
            LOG.debug('sweep: no orphaned trunk')
            return []
        LOG.info('sweep: %d orphaned trunk(s)', len(orphans))
        jobs += [self._submit(o.footprint, 'sweep: %s' % o.reason)
                 for o in orphans]
        reports = []
        for job in jobs:
            if job is None:
                continue
            try:
                reports.append(job.result())
            except futures.CancelledError:
                # Stopped before it started: the journal keeps it.
                continue
        return reports

    def sweep_forever(self, interval):
        while not self.stopped.wait(interval):
            try:
                self.sweep()
            except Exception:
                # A sweep that fails (cloud down, bus restart) is retried at
                # the next interval: nothing it knew is lost.
                LOG.exception('sweep failed; trying again in %ss', interval)

    def stop(self):
        """Let the cleanups running finish; the rest wait in the journal."""
        self.stopped.set()
        self.pool.shutdown(wait=True, cancel_futures=True)


def _transient(exc):
    """An error the cloud or the disk may not give again soon."""
    if isinstance(exc, (PermissionError, ssl.SSLError)) or (
            isinstance(exc, OSError) and exc.errno == errno.EROFS):
        # Not without an operator.
        return False
    if isinstance(exc, clients_mod.CloudError):
        # Keystone's own answer: a 5xx passes, a refusal stays.
        return (getattr(exc.__cause__, 'http_status', None) or 0) >= 500
    # What the library retries, a full disk, and (Unauthorized) a rotated
    # credential the operator is replacing.
    return cleanup.retriable(exc) or isinstance(exc, (
        OSError, lib_exc.Unauthorized, lib_exc.OverLimit,
        lib_exc.RateLimitExceeded))


class NotificationEndpoint:
    """The oslo.messaging endpoint: hands each delete to the watcher.

    A ``.start`` is acknowledged once its footprint is written to the
    awaited deletes; a ``.end`` once that footprint is handed to the
    journal (Nova lists the server deleted), or left awaited (it does not
    yet), or the cloud shows no trunk the server stood on.
    One the cloud or the disk could not take goes back to the queue after
    a wait that doubles for that notification, up to ``max_backoff``
    seconds, while they keep failing: a cloud that is down delays the work
    and loses none of it. Any other error is a bug or a refusal the next
    delivery would meet again: it is logged and acknowledged.
    """

    filter_rule = oslo_messaging.NotificationFilter(event_type=EVENTS)

    # How many notifications' waits to remember.
    MAX_DELAYS = 1000

    def __init__(self, watcher, backoff=1.0, max_backoff=30.0):
        self.watcher = watcher
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.delays = collections.OrderedDict()
        # Notifications are handled side by side.
        self.lock = threading.Lock()

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        server_id, project_id, ports = _payload(payload)
        if not server_id:
            return oslo_messaging.NotificationResult.HANDLED
        if self.watcher.stopped.is_set():
            # Stopping: no call to the cloud; the next start handles it.
            return oslo_messaging.NotificationResult.REQUEUE
        key = (event_type, server_id)
        sent_at = _sent_at(metadata)
        try:
            if event_type.endswith('.start'):
                self.watcher.delete_started(server_id, ports, sent_at,
                                            project_id)
            else:
                self.watcher.delete_ended(server_id, project_id, ports,
                                          sent_at)
        except Exception as exc:
            if not _transient(exc):
                self._forget(key)
                LOG.exception('%s for server %s not handled', event_type,
                              server_id)
                return oslo_messaging.NotificationResult.HANDLED
            with self.lock:
                delay = self.delays.pop(key, self.backoff)
                self.delays[key] = min(delay * 2, self.max_backoff)
                while len(self.delays) > self.MAX_DELAYS:
                    self.delays.popitem(last=False)
            LOG.warning('%s for server %s not handled (%s): back to the '
                        'queue in %ss', event_type, server_id,
                        cleanup.error_text(exc), delay)
            # A stop ends the wait: the message is not lost either way.
            self.watcher.stopped.wait(delay)
            return oslo_messaging.NotificationResult.REQUEUE
        self._forget(key)
        return oslo_messaging.NotificationResult.HANDLED

    def _forget(self, key):
        with self.lock:
            self.delays.pop(key, None)


def listener(conf, watcher, transport_url=None, exchange=EXCHANGE):
    """A notification listener on the bus named by ``conf`` or the URL.

    Unless the config files say otherwise, RabbitMQ hands it at most
    ``PREFETCH`` messages at a time: the rest wait in the queue, where its
    policy (a length limit) bounds them, not in this process.
    """
    transport = oslo_messaging.get_notification_transport(
        conf, url=transport_url)
    try:
        conf.set_default('rabbit_qos_prefetch_count', PREFETCH,
                         group='oslo_messaging_rabbit')
    except (cfg.NoSuchOptError, cfg.NoSuchGroupError):
        # Not RabbitMQ.
        pass
    return oslo_messaging.get_notification_listener(
        transport, [oslo_messaging.Target(topic=TOPIC, exchange=exchange)],
        [NotificationEndpoint(watcher)], executor='threading', pool=POOL,
        allow_requeue=True)
