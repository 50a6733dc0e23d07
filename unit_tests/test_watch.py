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

import datetime
import errno
import os
import signal
import ssl
import threading
import time
from unittest import mock

import fixtures
from keystoneauth1 import exceptions as ksa_exc
from oslo_config import cfg
import oslo_messaging
from tempest.lib import exceptions as lib_exc

from trunk_cleanup_tempest import cleanup
from trunk_cleanup_tempest.cleanup import footprint as fp_mod
from trunk_cleanup_tempest import clients as clients_mod
from trunk_cleanup_tempest.watch import service
from trunk_cleanup_tempest.watch import serving
from unit_tests import base
from unit_tests import fake_cloud


def mock_not_found(*args, **kwargs):
    raise cleanup.NotFound('gone')


def payload(server_id, port_ids=(), project='p'):
    return {'nova_object.name': 'InstanceActionPayload',
            'nova_object.data': {
                'uuid': server_id, 'tenant_id': project,
                'ip_addresses': [{'nova_object.data': {'port_uuid': p}}
                                 for p in port_ids]}}


class TestWatcher(base.TestCase):

    def setUp(self):
        super().setUp()
        # The service runs with admin credentials.
        self.cloud.admin = True
        self.watcher = service.Watcher(self.clients, workers=2, timeout=0.3,
                                       interval=0.01)
        self.addCleanup(self.watcher.stop)

    def test_payload(self):
        self.assertEqual(('s', 'p', ['a', 'b']),
                         service._payload(payload('s', ['a', 'b', 'a'])))
        self.assertEqual((None, None, []), service._payload({}))

    def test_start_records_and_end_cleans(self):
        self.stand_up()
        self.watcher.delete_started(self.server, [])
        self.assertEqual([self.trunk],
                         self.watcher.pending[self.server][0].trunk_ids)
        self.cloud.delete_server(self.server)
        report = self.watcher.delete_ended(self.server, None, []).result()
        self.assertTrue(report.clean, str(report))
        self.assertEqual({}, self.cloud.trunks)
        self.assertEqual({}, self.watcher.pending)
        # As Nova does, the service keeps the port the user gave the server.
        self.assertEqual([self.parent], list(self.cloud.ports))
        self.assertEqual([self.parent], [k['id'] for k in report.kept])

    def test_end_without_start_uses_the_payload_ports(self):
        self.stand_up()
        self.cloud.delete_server(self.server)
        report = self.watcher.delete_ended(self.server, None,
                                           [self.parent]).result()
        self.assertTrue(report.clean, str(report))

    def test_a_trunk_made_after_the_delete_is_not_the_server_s(self):
        """A late (or repeated) notification: the user built anew since."""
        sent_at = datetime.datetime(2026, 11, 24, 9, 30,
                                    tzinfo=datetime.timezone.utc)
        self.stand_up()
        self.cloud.delete_server(self.server)
        # The user drops the old trunk and builds a new one on the parent
        # Nova kept, after Nova announced the delete.
        del self.cloud.trunks[self.trunk]
        new_sub = self.cloud.add_port(created_at='2026-11-24T10:00:00Z')
        new = self.cloud.add_trunk(self.parent, [new_sub],
                                   updated_at='2026-11-24T10:00:00Z')
        self.assertIsNone(self.watcher.delete_ended(
            self.server, None, [self.parent], sent_at))
        self.assertEqual([new], list(self.cloud.trunks))
        self.assertIn(new_sub, self.cloud.ports)
        self.assertEqual([], self.cloud.writes())

    def test_only_an_earlier_second_is_before(self):
        """Neutron keeps whole seconds; an unknown age proves nothing."""
        self.stand_up()
        fp = cleanup.record_server(self.clients, self.server)
        made = datetime.datetime(2026, 11, 24, 9, 0,
                                 tzinfo=datetime.timezone.utc)
        for sent_at, kept in ((made + datetime.timedelta(seconds=1), 1),
                              (made + datetime.timedelta(microseconds=900),
                               0), (made, 0)):
            found = cleanup.record_server(self.clients, self.server,
                                          created_before=sent_at)
            self.assertEqual(fp.trunk_ids[:kept], found.trunk_ids)
        del self.cloud.trunks[self.trunk]['created_at']
        self.assertIsNone(cleanup.footprint.record_ports(
            self.clients, [self.parent],
            created_before=made + datetime.timedelta(days=1)))

    def test_a_live_server_s_subport_of_the_delete_s_second_is_its(self):
        # Added to the running trunk, then the server deleted at once:
        # Neutron's created_at (whole seconds) is the notification's second.
        self.stand_up()
        new_sub = self.cloud.add_port(created_at='2026-11-24T09:30:05Z')
        self.cloud.trunks[self.trunk]['sub_ports'].append(
            {'port_id': new_sub, 'segmentation_type': 'vlan',
             'segmentation_id': 300})
        sent_at = datetime.datetime(2026, 11, 24, 9, 30, 5, 940000,
                                    tzinfo=datetime.timezone.utc)
        self.watcher.delete_started(self.server, [], sent_at)
        footprint = self.watcher.pending[self.server][0]
        self.assertIn(new_sub, [sub.port_id
                                for sub in footprint.trunks[0].subports])
        # One made a second later is not the server's.
        self.cloud.ports[new_sub]['created_at'] = '2026-11-24T09:30:06Z'
        self.watcher.delete_started(self.server, [], sent_at)
        footprint = self.watcher.pending[self.server][0]
        self.assertNotIn(new_sub, [sub.port_id
                                   for sub in footprint.trunks[0].subports])

    def test_a_trunk_of_the_delete_s_second_is_not_the_server_s(self):
        # On a parent still bound (a driver that trunks bound ports): made
        # as Nova announced the delete, it may be for the next server.
        self.stand_up()
        other = self.cloud.add_port(created_at='2026-11-24T09:30:05Z')
        self.cloud.bind(other, self.server)
        late = self.cloud.add_trunk(other, updated_at='2026-11-24T09:30:05Z')
        sent_at = datetime.datetime(2026, 11, 24, 9, 30, 5, 940000,
                                    tzinfo=datetime.timezone.utc)
        self.watcher.delete_started(self.server, [], sent_at)
        self.assertEqual([self.trunk],
                         self.watcher.pending[self.server][0].trunk_ids)
        self.assertNotIn(late, self.watcher.pending[self.server][0].trunk_ids)

    def test_a_port_that_only_names_the_server_is_not_its(self):
        # device_id is free text: an admin's port in another project, or
        # one no compute service owns, that names the server.
        self.stand_up()
        for project, owner in (('other', 'compute:nova'),
                               (fake_cloud.PROJECT, 'network:dhcp')):
            port = self.cloud.add_port(project_id=project,
                                       device_id=self.server,
                                       device_owner=owner)
            self.cloud.add_trunk(port, project_id=project)
        self.assertEqual([self.trunk], cleanup.record_server(
            self.clients, self.server).trunk_ids)

    def awaiting_watcher(self):
        journal = service.Journal(self.useFixture(fixtures.TempDir()).path)
        watcher = service.Watcher(self.clients, workers=2, timeout=0.3,
                                  interval=0.01, journal=journal)
        self.addCleanup(watcher.stop)
        return watcher

    def started_long_ago(self, watcher):
        """A delete whose start Nova sent two hours ago, recorded."""
        watcher.delete_started(self.server, [self.parent],
                               datetime.datetime.now(datetime.timezone.utc) -
                               datetime.timedelta(hours=2))

    def test_the_end_handled_by_another_service(self):
        """Active-active: the start went to this service, the end not."""
        watcher = self.awaiting_watcher()
        self.stand_up()
        watcher.delete_started(self.server, [self.parent])
        self.assertEqual([self.server], [
            e.footprint.server_id for e in watcher.awaiting.pending()])
        # Nova is still deleting: nothing is asked of Neutron.
        self.assertEqual([], watcher.await_deletes())
        self.assertEqual([], self.cloud.writes())
        # The other service's end names no port (Nova has forgotten them).
        self.cloud.delete_server(self.server)
        self.assertIsNone(self.watcher.delete_ended(self.server, None, []))
        jobs = watcher.await_deletes()
        self.assertEqual(1, len(jobs))
        self.assertTrue(jobs[0].result().clean, str(jobs[0].result()))
        self.assertEqual({}, self.cloud.trunks)
        self.assertEqual([], watcher.awaiting.pending())
        self.assertEqual([], watcher.journal.pending())
        # Its own end, late, starts no second cleanup.
        self.assertIsNone(watcher.delete_ended(self.server, None, []))
        self.assertEqual([], watcher.await_deletes())

    def test_an_awaited_delete_survives_a_restart(self):
        watcher = self.awaiting_watcher()
        self.stand_up()
        watcher.delete_started(self.server, [self.parent])
        watcher.stop()
        self.cloud.delete_server(self.server)
        again = service.Watcher(self.clients, workers=2, timeout=0.3,
                                interval=0.01, journal=watcher.journal)
        self.addCleanup(again.stop)
        self.assertEqual([], again.resume())
        self.assertEqual([self.server], list(again.pending))
        report = again.await_deletes()[0].result()
        self.assertTrue(report.clean, str(report))
        self.assertEqual([], again.awaiting.pending())

    def test_a_journal_it_cannot_write_is_refused_at_start(self):
        watcher = self.awaiting_watcher()
        watcher.check_journal()
        # Something else where the awaited deletes go.
        os.rmdir(watcher.awaiting.folder)
        with open(watcher.awaiting.folder, 'w'):
            pass
        self.assertRaises(OSError, watcher.check_journal)

    def test_a_delete_that_never_ends_is_given_up(self):
        watcher = self.awaiting_watcher()
        self.stand_up()
        watcher.delete_started(self.server, [self.parent])
        watcher.max_wait = 0
        self.assertEqual([], watcher.await_deletes())
        self.assertEqual({}, watcher.pending)
        self.assertEqual([], watcher.awaiting.pending())
        self.assertEqual([], self.cloud.writes())

    def test_giving_up_spares_a_newer_start_of_the_server(self):
        # A delete that failed an hour ago is retried: its new start is
        # handled while the awaiter gives the old one up.
        watcher = self.awaiting_watcher()
        self.stand_up()
        now = datetime.datetime.now(datetime.timezone.utc)
        self.started_long_ago(watcher)
        claim = watcher._claim

        def retried_meanwhile(server_id, entry):
            watcher._claim = claim
            watcher.delete_started(self.server, [self.parent], now)
            return claim(server_id, entry)
        watcher._claim = retried_meanwhile
        self.assertEqual([], watcher.await_deletes())
        self.assertEqual([now], [e.sent_at for e in watcher.pending.values()])
        self.assertEqual([now], [e.sent_at
                                 for e in watcher.awaiting.pending()])

    def test_another_project_s_subport_is_left(self):
        # An admin (or a shared network's owner) added it to the trunk.
        self.stand_up()
        foreign = self.cloud.add_port(project_id='other')
        self.cloud.trunks[self.trunk]['sub_ports'].append(
            {'port_id': foreign, 'segmentation_type': 'vlan',
             'segmentation_id': 300})
        self.watcher.delete_started(self.server, [])
        self.cloud.delete_server(self.server)
        report = self.watcher.delete_ended(self.server, None, []).result()
        self.assertIn(foreign, self.cloud.ports)
        self.assertNotIn(('DELETE', '/v2.0/ports/%s' % foreign),
                         self.cloud.writes())
        self.assertFalse(report.clean, str(report))

    def test_an_end_of_a_delete_that_failed_cleans_nothing(self):
        # Nova sends the end of a delete that failed too (the server
        # stays): the footprint is still awaited.
        watcher = self.awaiting_watcher()
        self.stand_up()
        watcher.delete_started(self.server, [self.parent])
        self.assertIsNone(watcher.delete_ended(self.server, None, []))
        self.assertEqual([self.server], list(watcher.pending))
        self.assertEqual([], self.cloud.writes())
        # Its end first, then a retried delete's start: still awaited.
        self.watcher.delete_ended(self.server, None, [])
        self.assertIsNone(self.watcher.delete_started(self.server, []))
        self.assertEqual([self.server], list(self.watcher.pending))
        self.assertEqual([], self.cloud.writes())
        self.cloud.delete_server(self.server)
        report = self.watcher.await_deletes()[0].result()
        self.assertTrue(report.clean, str(report))

    def test_one_list_call_per_pass_for_every_delete_awaited(self):
        servers = []
        for _ in range(3):
            self.stand_up()
            self.watcher.delete_started(self.server, [])
            servers.append(self.server)
        for server in servers:
            self.cloud.delete_server(server)
        self.cloud.requests.clear()
        _, release = self.hold_cleanups()
        jobs = self.watcher.await_deletes()
        self.assertEqual(1, len([r for r in self.cloud.requests
                                 if r[1].startswith('/v2.1/servers')]))
        release.set()
        self.assertTrue(all(job.result().clean for job in jobs))
        self.assertEqual(3, len(jobs))

    def test_an_old_delete_is_given_up_once_nova_answers(self):
        watcher = self.awaiting_watcher()
        self.stand_up()
        now = datetime.datetime.now(datetime.timezone.utc)
        self.started_long_ago(watcher)
        old = self.server
        self.stand_up()
        watcher.delete_started(self.server, [self.parent], now)
        self.cloud.fail('GET', '/v2.1/servers', 500, 'ServerFault')
        self.assertRaises(lib_exc.ServerFault, watcher.await_deletes)
        # Not without asking Nova: it may have deleted the server since.
        self.assertEqual([old, self.server], list(watcher.pending))
        self.assertEqual([], watcher.await_deletes())
        self.assertEqual([self.server], list(watcher.pending))
        self.assertEqual([self.server], [
            e.footprint.server_id for e in watcher.awaiting.pending()])

    def deleted_long_ago(self, server):
        self.cloud.delete_server(server)
        self.cloud.deleted[server]['terminated_at'] = '2026-11-24T07:00:00Z'

    def test_a_restart_keeps_each_awaited_delete_s_age(self):
        watcher = self.awaiting_watcher()
        self.stand_up()
        self.started_long_ago(watcher)
        watcher.stop()
        # Nova lists it deleted, but long ago: its parent port may carry
        # the next server by now.
        self.deleted_long_ago(self.server)
        again = service.Watcher(self.clients, workers=2, timeout=0.3,
                                interval=0.01, journal=watcher.journal)
        self.addCleanup(again.stop)
        again.resume()
        self.assertEqual([], again.await_deletes())
        self.assertEqual([], self.cloud.writes())
        self.assertEqual([], again.awaiting.pending())

    def test_a_late_start_and_end_of_an_old_delete_clean_nothing(self):
        # A backlog: both halves handled an hour after Nova deleted it.
        self.stand_up()
        fp = cleanup.record_server(self.clients, self.server)
        self.deleted_long_ago(self.server)
        self.patch(fp_mod, 'record_ports', lambda *a, **kw: fp)
        self.watcher.delete_started(self.server, [self.parent])
        self.assertIsNone(self.watcher.delete_ended(self.server, None, []))
        self.assertEqual([], self.cloud.writes())
        self.assertEqual({}, self.watcher.pending)

    def test_a_late_start_of_a_delete_just_done_is_cleaned(self):
        # Its start was held up, but Nova only now finished the delete.
        self.stand_up()
        self.started_long_ago(self.watcher)
        self.cloud.delete_server(self.server)
        report = self.watcher.await_deletes()[0].result()
        self.assertTrue(report.clean, str(report))

    def test_one_awaited_entry_per_server(self):
        watcher = self.awaiting_watcher()
        self.stand_up()
        watcher.delete_started(self.server, [self.parent])
        # Delivered again after Nova unbound the parent: another footprint.
        self.cloud.delete_server(self.server)
        self.patch(fp_mod, 'record_server', mock_not_found)
        watcher.delete_started(self.server, [self.parent])
        self.assertEqual(1, len(os.listdir(watcher.awaiting.folder)))

    def test_a_subport_made_after_the_delete_keeps_the_trunk(self):
        sent_at = datetime.datetime(2026, 11, 24, 9, 30,
                                    tzinfo=datetime.timezone.utc)
        self.stand_up()
        self.cloud.delete_server(self.server)
        new_sub = self.cloud.add_port(created_at='2026-11-24T10:00:00Z')
        self.cloud.trunks[self.trunk]['sub_ports'].append(
            {'port_id': new_sub, 'segmentation_type': 'vlan',
             'segmentation_id': 300})
        report = self.watcher.delete_ended(self.server, None, [self.parent],
                                           sent_at).result()
        self.assertFalse(report.clean, str(report))
        self.assertIn(self.trunk, self.cloud.trunks)
        self.assertIn(new_sub, self.cloud.ports)

    def test_end_handled_before_start_still_cleans(self):
        # Nova has unbound the port and the end's payload names no port,
        # so only the start (handled late) can find the trunk.
        self.stand_up()
        fp = cleanup.record_server(self.clients, self.server)
        self.assertIsNone(self.watcher.delete_ended(self.server, None, []))
        self.patch(fp_mod, 'record_server', lambda *a, **kw: fp)
        self.cloud.delete_server(self.server)
        report = self.watcher.delete_started(self.server, []).result()
        self.assertTrue(report.clean, str(report))
        self.assertEqual({}, self.cloud.trunks)
        self.assertEqual({}, self.watcher.pending)
        self.assertEqual({}, self.watcher.ended)

    def test_remembers_a_bounded_number_of_ended_deletes(self):
        self.watcher.MAX_REMEMBERED = 3
        for n in range(5):
            self.watcher.delete_ended('server-%d' % n, None, [])
        self.assertEqual(['server-2', 'server-3', 'server-4'],
                         list(self.watcher.ended))

    def test_remembers_a_bounded_number_of_started_deletes(self):
        # Their ends may have gone to another watch on the same queue.
        self.watcher.MAX_REMEMBERED = 2
        servers = []
        for _ in range(3):
            self.stand_up()
            servers.append(self.server)
            self.watcher.delete_started(self.server, [])
        self.assertEqual(servers[1:], list(self.watcher.pending))

    def test_a_failing_cleanup_is_logged_and_kept(self):
        self.stand_up()
        self.cloud.delete_server(self.server)
        self.patch(cleanup, 'cleanup', self._explode)
        logger = self.useFixture(fixtures.FakeLogger())
        job = self.watcher.delete_ended(self.server, None, [self.parent])
        self.assertRaises(RuntimeError, job.result)
        self.assertIn('cleanup of trunk(s) %s failed' % self.trunk,
                      logger.output)

    @staticmethod
    def _explode(*args, **kwargs):
        raise RuntimeError('boom')

    def test_server_on_no_trunk_is_ignored(self):
        server = self.cloud.boot(self.cloud.add_port())
        self.watcher.delete_started(server, [])
        self.assertEqual({}, self.watcher.pending)
        self.assertIsNone(self.watcher.delete_ended(server, None, []))
        self.assertIsNone(self.watcher.delete_ended('gone', None,
                                                    ['no-such-port']))

    def test_stale_binding_is_taken_over(self):
        self.stand_up()
        self.watcher.delete_started(self.server, [])
        self.cloud.delete_server(self.server, unbind=False)
        report = self.watcher.delete_ended(self.server, None, []).result()
        self.assertTrue(report.clean, str(report))

    def test_sweep_spares_young_trunks(self):
        server, old, _, _ = self.cloud.stand_up(
            updated_at='2026-01-01T00:00:00Z')
        # Nova left its parent bound: the server is proven gone.
        self.cloud.delete_server(server, unbind=False)
        young_parent = self.cloud.add_port()
        now = datetime.datetime.now(datetime.timezone.utc)
        young = self.cloud.add_trunk(
            young_parent, updated_at=now.strftime('%Y-%m-%dT%H:%M:%SZ'))
        self.watcher.sweep_orphans = True
        self.watcher.sweep_older_than = datetime.timedelta(hours=1)
        reports = self.watcher.sweep()
        self.assertEqual([[old]], [r.footprint.trunk_ids for r in reports])
        self.assertEqual([young], list(self.cloud.trunks))
        self.assertEqual([], [r for r in self.watcher.sweep()
                              if r.footprint.trunk_ids != [young]])

    def test_journal_resumes_what_a_killed_service_left(self):
        journal = service.Journal(self.useFixture(
            fixtures.TempDir()).path)
        self.stand_up()
        fp = cleanup.record_server(self.clients, self.server)
        self.cloud.delete_server(self.server)
        # Killed after the subports were detached: nothing in the cloud
        # links them to the trunk any more, only the journal does.
        journal.add(fp)
        self.cloud.trunks[self.trunk]['sub_ports'] = []
        watcher = service.Watcher(self.clients, timeout=0.3, interval=0.01,
                                  journal=journal)
        self.addCleanup(watcher.stop)
        reports = [job.result() for job in watcher.resume()]
        self.assertTrue(reports[0].clean, str(reports[0]))
        for pid in self.subports:
            self.assertNotIn(pid, self.cloud.ports)
        self.assertEqual([], journal.pending())
        self.assertEqual([], watcher.resume())
        # What a worker is cleaning right now is not resumed twice.
        journal.add(fp)
        watcher.in_flight.update(dict.fromkeys(fp.trunk_ids, fp))
        self.assertEqual([], watcher.resume())

    def hold_cleanups(self):
        """Cleanups wait for the second event; the first says one began."""
        release = threading.Event()
        started = threading.Event()
        real = cleanup.cleanup

        def held(*args, **kwargs):
            started.set()
            release.wait(10)
            return real(*args, **kwargs)
        self.patch(cleanup, 'cleanup', held)
        return started, release

    def test_another_footprint_of_a_busy_trunk_waits_its_turn(self):
        journal = service.Journal(self.useFixture(fixtures.TempDir()).path)
        watcher = service.Watcher(self.clients, timeout=0.3, interval=0.01,
                                  journal=journal)
        self.addCleanup(watcher.stop)
        first = self.stand_up()
        self.cloud.delete_server(self.server)
        # The user booted a second server on the parent Nova kept, with
        # one more subport, and deleted it too.
        extra = self.cloud.add_port()
        self.cloud.trunks[self.trunk]['sub_ports'].append(
            {'port_id': extra, 'segmentation_type': 'vlan',
             'segmentation_id': 200})
        self.cloud.ports[extra]['device_owner'] = 'trunk:subport'
        self.cloud.change(self.cloud.trunks[self.trunk])
        second = fp_mod.record_ports(self.clients, [self.parent], 'second')
        started, release = self.hold_cleanups()
        job = watcher._submit(first, 'first')
        self.assertTrue(started.wait(10))
        self.assertIsNone(watcher._submit(second, 'second'))
        self.assertEqual(2, len(journal.pending()))
        release.set()
        # The first footprint's plan refuses the trunk (it has a subport
        # it did not have); the second one's cleans it.
        self.assertFalse(job.result().clean)
        deadline = time.monotonic() + 10
        while (watcher.in_flight or watcher.parked) and \
                time.monotonic() < deadline:
            time.sleep(0.01)
        self.assertNotIn(self.trunk, self.cloud.trunks)
        self.assertNotIn(extra, self.cloud.ports)
        self.assertEqual([], journal.pending())

    def test_a_trunk_is_cleaned_once_at_a_time(self):
        # A notification delivered again while its cleanup runs.
        self.stand_up()
        self.cloud.delete_server(self.server)
        started, release = self.hold_cleanups()
        first = self.watcher.delete_ended(self.server, None, [self.parent])
        self.assertTrue(started.wait(10))
        logger = self.useFixture(fixtures.FakeLogger())
        self.assertIsNone(self.watcher.delete_ended(self.server, None,
                                                    [self.parent]))
        self.assertIn('trunk(s) %s already being cleaned' % self.trunk,
                      logger.output)
        release.set()
        self.assertTrue(first.result().clean)
        self.assertEqual({}, self.watcher.in_flight)
        # Delivered once more after it ended: nothing left to clean.
        self.assertIsNone(self.watcher.delete_ended(self.server, None,
                                                    [self.parent]))

    def test_journal_keeps_what_failed_and_skips_bad_entries(self):
        folder = self.useFixture(fixtures.TempDir()).path
        journal = service.Journal(folder)
        self.stand_up()
        fp = cleanup.record_server(self.clients, self.server)
        self.cloud.delete_server(self.server)
        with open(os.path.join(folder, 'broken.json'), 'w') as f:
            f.write('{not json')
        self.cloud.fail('DELETE', r'/v2\.0/trunks/', 500, 'Oops', times=99)
        watcher = service.Watcher(self.clients, timeout=0.1, interval=0.01,
                                  journal=journal)
        self.addCleanup(watcher.stop)
        report = watcher.delete_ended(self.server, None,
                                      [self.parent]).result()
        self.assertFalse(report.clean)
        self.assertEqual([fp.trunk_ids], [p.trunk_ids
                                          for p in journal.pending()])

    def test_sweep_forever_survives_errors_and_stops(self):
        calls = []

        def sweep():
            calls.append(1)
            if len(calls) == 2:
                self.watcher.stopped.set()
            raise RuntimeError('cloud down')
        self.watcher.sweep = sweep
        self.watcher.sweep_forever(0.01)
        self.assertEqual(2, len(calls))


class TestEndpoint(base.TestCase):

    def test_dispatch(self):
        seen = []
        times = []

        class Recorder:
            stopped = threading.Event()

            def delete_started(self, server_id, ports, sent_at, project):
                seen.append(('start', server_id, ports))
                times.append(sent_at)

            def delete_ended(self, server_id, project, ports, sent_at):
                seen.append(('end', server_id, project, ports))
                times.append(sent_at)
                raise RuntimeError('a bug')

        endpoint = service.NotificationEndpoint(Recorder())
        handled = oslo_messaging.NotificationResult.HANDLED
        self.assertEqual(handled, endpoint.info(
            {}, 'nova-compute:h', 'instance.delete.start',
            payload('s', ['p1']), {'timestamp': '2026-11-24 09:30:00.500000'}))
        self.assertEqual(handled, endpoint.info(
            {}, 'nova-compute:h', 'instance.delete.end',
            payload('s', [], 'proj'), {}))
        self.assertEqual(handled, endpoint.info(
            {}, 'nova-compute:h', 'instance.delete.end', {}, {}))
        self.assertEqual([('start', 's', ['p1']), ('end', 's', 'proj', [])],
                         seen)
        # oslo.messaging's timestamp is UTC; without one, the arrival.
        self.assertEqual(datetime.datetime(
            2026, 11, 24, 9, 30, 0, 500000, tzinfo=datetime.timezone.utc),
            times[0])
        self.assertLess(datetime.datetime.now(datetime.timezone.utc) -
                        times[1], datetime.timedelta(seconds=5))
        self.assertTrue(endpoint.filter_rule.match(
            {}, {}, 'instance.delete.end', {}, {}))
        self.assertFalse(endpoint.filter_rule.match(
            {}, {}, 'instance.create.end', {}, {}))

    def test_what_the_cloud_refuses_goes_back_to_the_queue(self):
        answers = [ConnectionError('neutron down'),
                   lib_exc.ServerFault('503'), OSError('disk full'), None]

        class Flaky:
            stopped = threading.Event()

            def delete_ended(self, *args):
                answer = answers.pop(0)
                if answer is not None:
                    raise answer
        waits = []
        Flaky.stopped.wait = waits.append
        endpoint = service.NotificationEndpoint(Flaky(), backoff=1,
                                                max_backoff=3)
        results = [endpoint.info({}, 'nova-compute:h',
                                 'instance.delete.end', payload('s'), {})
                   for _ in range(4)]
        requeue = oslo_messaging.NotificationResult.REQUEUE
        self.assertEqual([requeue] * 3 +
                         [oslo_messaging.NotificationResult.HANDLED],
                         results)
        # The wait doubles, up to the maximum; a success forgets it.
        self.assertEqual([1, 2, 3], waits)
        self.assertEqual({}, endpoint.delays)
        # Stopping: back to the queue at once, the cloud not called.
        Flaky.stopped.set()
        self.assertEqual(requeue, endpoint.info(
            {}, 'nova-compute:h', 'instance.delete.end', payload('s'), {}))
        self.assertEqual([1, 2, 3], waits)

    def test_transient(self):
        keystone_down = clients_mod.CloudError('Keystone: 503')
        keystone_down.__cause__ = ksa_exc.ServiceUnavailable()
        refused = clients_mod.CloudError('token is system-scoped')
        self.assertTrue(service._transient(keystone_down))
        self.assertFalse(service._transient(refused))
        self.assertTrue(service._transient(TimeoutError()))
        self.assertFalse(service._transient(lib_exc.Forbidden()))
        self.assertFalse(service._transient(KeyError('x')))
        # What only an operator can fix is not retried for ever.
        self.assertFalse(service._transient(PermissionError(13, 'denied')))
        self.assertFalse(service._transient(OSError(errno.EROFS, 'ro')))
        self.assertFalse(service._transient(ssl.SSLCertVerificationError()))
        self.assertTrue(service._transient(OSError(errno.ENOSPC, 'full')))
        self.assertTrue(service._transient(lib_exc.Unauthorized()))
        self.assertTrue(service._transient(lib_exc.OverLimit()))

    def test_listener_on_a_pool_of_its_own(self):
        conf = cfg.ConfigOpts()
        conf([])
        listener = service.listener(conf, service.Watcher(self.clients),
                                    'fake://')
        # A pool of its own: other consumers (ceilometer...) still get
        # every notification.
        self.assertEqual(service.POOL, listener._pool)
        # What could not be handled goes back to the queue.
        self.assertTrue(listener._allow_requeue)


class TestServe(base.TestCase):

    def test_serves_until_sigterm(self):
        for signum in (signal.SIGTERM, signal.SIGINT):
            self.addCleanup(signal.signal, signum, signal.getsignal(signum))
        conf = cfg.ConfigOpts()
        conf([])
        state = os.path.join(self.useFixture(fixtures.TempDir()).path, 's')
        stop = threading.Event()
        ready = []

        def listening():
            ready.append(stop.is_set())
            # What SIGTERM runs, without sending one to the test runner.
            signal.getsignal(signal.SIGTERM)(signal.SIGTERM, None)
        serving.serve(conf, self.clients, state, transport_url='fake://',
                      sweep_interval=60, stop=stop, ready=listening,
                      workers=1)
        self.assertEqual([False], ready)
        self.assertTrue(stop.is_set())
        # The journal was checked (made) before it listened.
        self.assertTrue(os.path.isdir(state))
        self.assertEqual([], self.cloud.requests)

    def test_sweeps_no_orphans_unless_asked(self):
        made = self.useFixture(fixtures.MockPatchObject(
            service, 'Watcher', side_effect=RuntimeError('made'))).mock
        self.assertRaises(RuntimeError, serving.serve, None, self.clients,
                          '/nowhere', workers=1)
        self.assertIs(False, made.call_args.kwargs['sweep_orphans'])
        self.assertIsNone(made.call_args.kwargs['sweep_older_than'])

    def test_stops_listening_before_it_stops_cleaning(self):
        for signum in (signal.SIGTERM, signal.SIGINT):
            self.addCleanup(signal.signal, signum, signal.getsignal(signum))
        order = mock.Mock()
        watcher = order.watcher
        watcher.workers = 1
        self.useFixture(fixtures.MockPatchObject(
            service, 'Watcher', return_value=watcher))
        self.useFixture(fixtures.MockPatchObject(
            service, 'listener', return_value=order.listener))
        stop = threading.Event()
        stop.set()
        serving.serve(None, self.clients, '/nowhere', stop=stop)
        calls = [c[0] for c in order.mock_calls
                 if c[0] in ('watcher.stopped.set', 'listener.stop',
                             'listener.wait', 'watcher.stop')]
        self.assertEqual(['watcher.stopped.set', 'listener.stop',
                          'listener.wait', 'watcher.stop'], calls)
