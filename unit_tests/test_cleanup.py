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

from concurrent import futures
import contextlib
import dataclasses
import json
import re
import threading
import time
from unittest import mock

from trunk_cleanup_tempest import cleanup
from trunk_cleanup_tempest.cleanup import errors
from trunk_cleanup_tempest.cleanup import executor
from trunk_cleanup_tempest.cleanup import leftovers
from trunk_cleanup_tempest.cleanup import listing
from trunk_cleanup_tempest.cleanup import reading
from trunk_cleanup_tempest.cleanup import report as rep
from trunk_cleanup_tempest.cleanup import run
from unit_tests import base
from unit_tests import fake_cloud

TRUNK_PATH = r'/v2\.0/trunks/[^/]+$'
PORT_PATH = r'/v2\.0/ports/[^/]+$'


class TestCleanup(base.TestCase):

    def assertGone(self, fp):
        for tid in fp.trunk_ids:
            self.assertNotIn(tid, self.cloud.trunks)
        for pid in fp.port_ids:
            self.assertNotIn(pid, self.cloud.ports)

    def test_stock_leftovers_are_cleaned_in_neutron_order(self):
        fp = self.stand_up(subports=3)
        bystander = self.cloud.add_port()
        self.cloud.delete_server(self.server)
        report = self.run_cleanup(fp)
        self.assertTrue(report.clean, str(report))
        self.assertGone(fp)
        self.assertIn(bystander, self.cloud.ports)
        writes = self.cloud.writes()
        # The trunk's delete detaches its subports: no write on its own
        # that a trunk found in use would have to undo.
        self.assertEqual(
            [('DELETE', '/v2.0/trunks/%s' % self.trunk)] +
            [('DELETE', '/v2.0/ports/%s' % p)
             for p in self.subports + [self.parent]], writes)
        # The trunk and four ports deleted.
        self.assertEqual('clean: 5 change(s) made, nothing left',
                         report.summary)

    def test_second_run_does_nothing_and_says_so(self):
        fp = self.stand_up()
        self.cloud.delete_server(self.server)
        self.run_cleanup(fp)
        self.cloud.requests.clear()
        report = self.run_cleanup(fp)
        self.assertEqual([], self.cloud.writes())
        self.assertEqual([], report.actions)
        self.assertTrue(report.clean)
        # Not "gone": a list shows only what exists and is visible.
        self.assertEqual("nothing to do: no trunk or port of the footprint "
                         "is in Neutron's answers", report.summary)

    def test_dry_run_writes_nothing(self):
        fp = self.stand_up()
        self.cloud.delete_server(self.server)
        report = self.run_cleanup(fp, dry_run=True)
        self.assertEqual([], self.cloud.writes())
        self.assertEqual({rep.WOULD}, {a.outcome for a in report.actions})
        # The trunk and three ports to delete.
        self.assertEqual(4, report.count(rep.WOULD))
        self.assertFalse(report.clean)
        self.assertEqual(4, len(report.left))
        self.assertEqual({'dry run: nothing was written'},
                         {r['reason'] for r in report.left})
        self.assertIn('nothing was written', report.summary)

    def test_api_calls_do_not_grow_beyond_one_delete_per_port(self):
        counts = {}
        for n in (2, 16):
            self.cloud = fake_cloud.FakeCloud()
            self.clients = fake_cloud.Clients(self.cloud)
            fp = self.stand_up(subports=n)
            self.cloud.delete_server(self.server)
            self.cloud.requests.clear()
            self.assertTrue(self.run_cleanup(fp).clean)
            counts[n] = len(self.cloud.requests)
            deletes = [p for m, p in self.cloud.requests
                       if m == 'DELETE' and '/ports/' in p]
            self.assertEqual(n + 1, len(deletes))
        # Only the per-port deletes grow with the number of subports.
        self.assertEqual(counts[2] + 14, counts[16])

    def test_report_counts_the_calls_it_made(self):
        fp = self.stand_up(subports=3)
        self.cloud.delete_server(self.server)
        self.cloud.requests.clear()
        report = self.run_cleanup(fp)
        # One inspection (server, trunk, ports), a re-read of the parent
        # (with its trunk_details) before the trunk's delete and of the
        # ports before theirs, and no reading again at the end: every step
        # succeeded. Every write is guarded with If-Match at no cost. The
        # servers list that confirms the server deleted: a member's by ID
        # is refused (403), so its own project's is read instead.
        self.assertEqual({'delete_port': 4, 'delete_trunk': 1,
                          'list_ports': 3, 'list_trunks': 1,
                          'list_servers': 2, 'show_server': 1},
                         report.calls)
        self.assertEqual(len(self.cloud.requests),
                         sum(report.calls.values()))
        # When a step fails, what is left is read again for the report.
        fp = self.stand_up(subports=1)
        self.cloud.delete_server(self.server)
        self.cloud.fail('DELETE', PORT_PATH, 400, 'BadRequest')
        report = self.run_cleanup(fp)
        self.assertEqual(2, report.calls['list_trunks'])
        self.assertEqual(['port'], [r['kind'] for r in report.left])

    def test_live_server_is_refused_and_untouched(self):
        fp = self.stand_up()
        report = self.run_cleanup(fp)
        self.assertEqual([], self.cloud.writes())
        self.assertEqual({rep.REFUSED}, {a.outcome for a in report.actions})
        self.assertIn('server %s still exists (status ACTIVE)' % self.server,
                      report.actions[0].detail)
        self.assertEqual(4, len(report.left))
        self.assertFalse(report.clean)

    def test_parent_bound_to_another_live_server_is_refused(self):
        fp = self.stand_up()
        self.cloud.delete_server(self.server)
        other = self.cloud.boot(self.parent)
        report = self.run_cleanup(fp)
        self.assertEqual([], self.cloud.writes())
        reasons = {a.id: a.detail for a in report.actions}
        self.assertEqual('parent port %s is bound to live server %s'
                         % (self.parent, other), reasons.pop(self.trunk))
        self.assertEqual({'on trunk %s, which is refused' % self.trunk},
                         set(reasons.values()))
        self.assertIn(self.trunk, self.cloud.trunks)

    def test_parent_still_bound_to_deleted_server_is_waited_for(self):
        fp = self.stand_up()
        self.cloud.delete_server(self.server, unbind=False)
        polls = []

        def nova_unbinds_late(cloud, method, path):
            if path == '/v2.0/ports/%s' % self.parent and method == 'GET':
                polls.append(path)
                if len(polls) == 3:
                    cloud.unbind(self.parent)
        self.cloud.hooks.append(nova_unbinds_late)
        report = self.run_cleanup(fp)
        self.assertTrue(report.clean, str(report))
        self.assertEqual(3, len(polls))

    def test_parent_never_unbound_fails_with_last_state(self):
        self.cloud.admin = True
        fp = self.stand_up()
        self.cloud.delete_server(self.server, unbind=False)
        report = self.run_cleanup(fp, timeout=0.05)
        outcomes = self.outcomes(report)
        self.assertEqual(rep.FAILED,
                         outcomes[('wait_parent_unbound', self.parent)])
        wait = [a for a in report.actions
                if a.action == 'wait_parent_unbound'][0]
        self.assertIn('still has device_id %s (owner compute:nova, host %s)'
                      % (self.server, fake_cloud.HOST), wait.detail)
        # The parent is settled first: nothing else is touched while a
        # server may still hold it.
        self.assertEqual(rep.SKIPPED, outcomes[('delete_trunk', self.trunk)])
        self.assertEqual(rep.SKIPPED,
                         outcomes[('delete_ports', self.parent)])
        for pid in self.subports:
            self.assertEqual(rep.SKIPPED, outcomes[('delete_ports', pid)])
        self.assertEqual(set(fp.trunk_ids + fp.port_ids),
                         {r['id'] for r in report.left})
        self.assertIn('not tried', [r for r in report.left
                                    if r['id'] == self.trunk][0]['reason'])

    def nova_binds_parent_late(self, release_after=None):
        """Nova binds the parent of the gone server just before its delete.

        As it does for a server deleted while it builds; it releases the
        port again at the ``release_after``-th read of it, if ever.
        """
        self.cloud.compute_ports_admin_only = True
        reads = []

        def nova(cloud, method, path):
            if path != '/v2.0/ports/%s' % self.parent:
                return
            if method == 'DELETE' and not reads:
                cloud.bind(self.parent, self.server)
            elif method == 'GET':
                reads.append(path)
                if len(reads) == release_after:
                    cloud.unbind(self.parent)
        self.cloud.hooks.append(nova)
        return reads

    def test_port_nova_still_holds_is_deleted_once_released(self):
        fp = self.stand_up()
        self.cloud.delete_server(self.server)
        reads = self.nova_binds_parent_late(release_after=2)
        report = self.run_cleanup(fp)
        self.assertTrue(report.clean, str(report))
        self.assertGone(fp)
        self.assertEqual(2, len(reads))
        deletes = [w for w in self.cloud.writes()
                   if w == ('DELETE', '/v2.0/ports/%s' % self.parent)]
        self.assertEqual(3, len(deletes))

    def test_port_nova_never_releases_fails_and_says_why(self):
        fp = self.stand_up()
        self.cloud.delete_server(self.server)
        self.nova_binds_parent_late()
        report = self.run_cleanup(fp, timeout=0.05)
        delete = [a for a in report.actions
                  if (a.action, a.id) == ('delete_ports', self.parent)][0]
        self.assertEqual(rep.FAILED, delete.outcome)
        self.assertIn('Nova has not released it yet (owner compute:nova, '
                      'device %s)' % self.server, delete.detail)
        self.assertIn(self.parent, self.cloud.ports)
        self.assertEqual([self.parent], [r['id'] for r in report.left])

    def test_port_bound_to_new_server_after_refusal_is_refused(self):
        fp = self.stand_up()
        self.cloud.delete_server(self.server)
        self.nova_binds_parent_late()

        def boot_instead(cloud, method, path):
            if (method, path) == ('GET', '/v2.0/ports/%s' % self.parent):
                self.other = cloud.boot(self.parent)
        self.cloud.hooks.append(boot_instead)
        report = self.run_cleanup(fp)
        delete = [a for a in report.actions
                  if (a.action, a.id) == ('delete_ports', self.parent)][0]
        self.assertEqual(rep.REFUSED, delete.outcome)
        # Never said to be live: it was not asked about.
        self.assertEqual('port %s is now bound to server %s, which cannot '
                         'be proven gone' % (self.parent, self.other),
                         delete.detail)
        self.assertIn(self.parent, self.cloud.ports)

    def test_forbidden_delete_of_a_free_port_is_not_retried(self):
        fp = self.stand_up()
        self.cloud.delete_server(self.server)
        self.cloud.fail('DELETE', '/v2.0/ports/%s$' % self.parent, 403,
                        'PolicyNotAuthorized',
                        'rule:delete_port is disallowed by policy')
        report = self.run_cleanup(fp)
        delete = [a for a in report.actions
                  if (a.action, a.id) == ('delete_ports', self.parent)][0]
        self.assertEqual(rep.FAILED, delete.outcome)
        self.assertEqual('PolicyNotAuthorized: rule:delete_port is '
                         'disallowed by policy', delete.detail)
        self.assertEqual(1, self.cloud.writes().count(
            ('DELETE', '/v2.0/ports/%s' % self.parent)))

    def test_server_booted_on_parent_while_waiting_is_refused(self):
        fp = self.stand_up()
        self.cloud.delete_server(self.server, unbind=False)
        self.cloud.servers[self.server] = {'status': 'DELETED',
                                           'tenant_id': fake_cloud.PROJECT}

        def new_server(cloud, method, path):
            if path == '/v2.0/ports/%s' % self.parent and method == 'GET':
                cloud.hooks.clear()
                cloud.unbind(self.parent)
                self.other = cloud.boot(self.parent)
        self.cloud.hooks.append(new_server)
        report = self.run_cleanup(fp)
        outcomes = self.outcomes(report)
        self.assertEqual(rep.REFUSED,
                         outcomes[('wait_parent_unbound', self.parent)])
        self.assertIn(self.trunk, self.cloud.trunks)
        self.assertEqual(self.other,
                         self.cloud.ports[self.parent]['device_id'])

    def test_server_booted_on_parent_after_trunk_delete_keeps_port(self):
        fp = self.stand_up()
        self.cloud.delete_server(self.server)

        def boot_after_trunk_delete(cloud, method, path):
            # The trunk is gone by the time the first subport is deleted.
            if path == '/v2.0/ports/%s' % self.subports[0]:
                cloud.hooks.clear()
                self.other = cloud.boot(self.parent)
        self.cloud.hooks.append(boot_after_trunk_delete)
        report = self.run_cleanup(fp)
        self.assertEqual(rep.REFUSED,
                         self.outcomes(report)[('delete_ports', self.parent)])
        self.assertIn(self.parent, self.cloud.ports)
        self.assertEqual([self.parent], [r['id'] for r in report.left])
        self.assertIn('which cannot be proven gone', report.left[0]['reason'])

    def test_conflict_is_retried_until_it_clears(self):
        fp = self.stand_up()
        self.cloud.delete_server(self.server)
        self.cloud.fail('DELETE', TRUNK_PATH, 409, 'TrunkInUse', times=2)
        report = self.run_cleanup(fp)
        self.assertTrue(report.clean, str(report))
        deletes = [p for m, p in self.cloud.requests
                   if m == 'DELETE' and '/trunks/' in p]
        self.assertEqual(3, len(deletes))

    def test_conflict_past_deadline_is_reported(self):
        fp = self.stand_up()
        self.cloud.delete_server(self.server)
        self.cloud.fail('DELETE', TRUNK_PATH, 409, 'TrunkInUse',
                        'Trunk %s is currently in use.' % self.trunk,
                        times=-1)
        report = self.run_cleanup(fp, timeout=0.05)
        trunk_action = [a for a in report.actions if a.id == self.trunk][0]
        self.assertEqual(rep.FAILED, trunk_action.outcome)
        self.assertIn('still not done after 0.05s: TrunkInUse: Trunk %s is '
                      'currently in use.' % self.trunk, trunk_action.detail)
        self.assertEqual(rep.SKIPPED,
                         self.outcomes(report)[('delete_ports', self.parent)])
        # Subports are deleted only once their trunk is gone.
        for pid in self.subports:
            self.assertEqual(rep.SKIPPED,
                             self.outcomes(report)[('delete_ports', pid)])
        self.assertEqual({self.trunk, self.parent} | set(self.subports),
                         {r['id'] for r in report.left})
        # A second run finishes the job once the cloud lets it.
        self.cloud.faults.clear()
        self.assertTrue(self.run_cleanup(fp).clean)
        self.assertGone(fp)

    def test_server_errors_are_retried(self):
        fp = self.stand_up()
        self.cloud.delete_server(self.server)
        self.cloud.fail('DELETE', PORT_PATH, 500, None, times=2)
        self.cloud.fail('DELETE', TRUNK_PATH, 503, None, times=1)
        self.assertTrue(self.run_cleanup(fp).clean)
        self.assertGone(fp)

    def test_client_error_is_not_retried(self):
        fp = self.stand_up()
        self.cloud.delete_server(self.server)
        self.cloud.fail('DELETE', TRUNK_PATH, 400, 'InvalidInput',
                        'Invalid input for operation.', times=-1)
        report = self.run_cleanup(fp)
        self.assertEqual(1, len(self.cloud.writes()))
        details = {a.detail for a in report.actions
                   if a.action == 'delete_trunk'}
        self.assertEqual({'InvalidInput: Invalid input for operation.'},
                         details)
        self.assertEqual(4, len(report.left))

    def test_already_deleted_by_someone_else(self):
        fp = self.stand_up()
        self.cloud.delete_server(self.server)

        def other_cleaner(cloud, method, path):
            if method == 'DELETE' and path == '/v2.0/trunks/%s' % self.trunk:
                cloud.hooks.clear()
                del cloud.trunks[self.trunk]
                del cloud.ports[self.parent]
        self.cloud.hooks.append(other_cleaner)
        report = self.run_cleanup(fp)
        self.assertTrue(report.clean)
        outcomes = self.outcomes(report)
        self.assertEqual(rep.GONE, outcomes[('delete_trunk', self.trunk)])
        self.assertEqual(rep.GONE, outcomes[('delete_ports', self.parent)])

    def test_subports_removed_by_someone_else_meanwhile(self):
        fp = self.stand_up(subports=3)
        self.cloud.delete_server(self.server)

        def other_cleaner(cloud, method, path):
            if method == 'DELETE':
                cloud.hooks.clear()
                cloud.trunks[self.trunk]['sub_ports'].pop(0)
        self.cloud.hooks.append(other_cleaner)
        report = self.run_cleanup(fp)
        self.assertTrue(report.clean, str(report))
        self.assertGone(fp)

    def test_subport_added_since_the_footprint_is_in_use(self):
        fp = self.stand_up()
        self.cloud.delete_server(self.server)
        late = self.cloud.add_port()
        self.cloud.trunks[self.trunk]['sub_ports'].append(
            {'port_id': late, 'segmentation_type': 'vlan',
             'segmentation_id': 300})
        report = self.run_cleanup(fp)
        self.assertEqual([], self.cloud.writes())
        self.assertIn('trunk %s has subport(s) %s that its footprint does '
                      'not have: it may be in use again' % (self.trunk, late),
                      str(report))
        # Recorded anew, it is the trunk's own: cleaned.
        fp = cleanup.Footprint(
            project_id=fp.project_id, server_id=fp.server_id,
            trunks=cleanup.record_trunk(self.clients, self.trunk).trunks)
        self.assertTrue(self.run_cleanup(fp).clean)
        self.assertNotIn(late, self.cloud.ports)

    def test_trunk_gone_meanwhile_reports_gone(self):
        fp = self.stand_up()
        self.cloud.delete_server(self.server)

        def trunk_vanishes(cloud, method, path):
            if method == 'DELETE':
                cloud.hooks.clear()
                del cloud.trunks[self.trunk]
        self.cloud.hooks.append(trunk_vanishes)
        report = self.run_cleanup(fp)
        self.assertTrue(report.clean, str(report))
        self.assertEqual(rep.GONE, self.outcomes(report)[
            ('delete_trunk', self.trunk)])

    def test_subport_added_to_another_trunk_is_refused_at_once(self):
        fp = self.stand_up()
        self.cloud.delete_server(self.server)
        stolen = self.subports[0]

        def move_subport(cloud, method, path):
            if method == 'DELETE' and path.endswith('/' + self.trunk):
                cloud.hooks.clear()
                other_parent = cloud.add_port()
                self.other_trunk = cloud.add_trunk(other_parent, [stolen])
        self.cloud.hooks.append(move_subport)
        report = self.run_cleanup(fp, timeout=30)
        action = [a for a in report.actions
                  if a.action == 'delete_ports' and a.id == stolen][0]
        self.assertEqual(rep.REFUSED, action.outcome)
        self.assertIn('subport for trunk %s' % self.other_trunk,
                      action.detail)
        self.assertIn(stolen, self.cloud.ports)
        self.assertEqual([stolen], [r['id'] for r in report.left])

    def test_disabled_trunk_is_enabled_first(self):
        fp = self.stand_up(admin_state_up=False)
        self.cloud.delete_server(self.server)
        report = self.run_cleanup(fp)
        self.assertTrue(report.clean, str(report))
        self.assertEqual(('PUT', '/v2.0/trunks/%s' % self.trunk),
                         self.cloud.writes()[0])

    def test_other_project_resources_are_refused(self):
        fp = self.stand_up()
        self.cloud.delete_server(self.server)
        self.cloud.ports[self.subports[1]]['project_id'] = (
            fake_cloud.OTHER_PROJECT)
        report = self.run_cleanup(fp)
        self.assertEqual([self.subports[1]], [r['id'] for r in report.left])
        self.assertIn('belongs to project %s' % fake_cloud.OTHER_PROJECT,
                      report.left[0]['reason'])
        self.assertIn(self.subports[1], self.cloud.ports)

    def test_a_journaled_subport_is_cleaned_once_its_parent_is_gone(self):
        # A run cut after the trunk and parent deletes left a subport: the
        # parent's project is no longer known, and not needed.
        fp = self.stand_up()
        self.cloud.delete_server(self.server)
        del self.cloud.trunks[self.trunk]
        del self.cloud.ports[self.parent]
        report = self.run_cleanup(fp)
        self.assertTrue(report.clean, str(report))
        self.assertNotIn(self.subports[0], self.cloud.ports)

    def test_a_gone_parent_s_trunk_is_not_another_project_s_server_s(self):
        # The trunk and parent are gone, the subports kept: the footprint
        # names a server Nova lists deleted in another project than the
        # trunk's, which proves nothing of them.
        fp = self.stand_up()
        self.cloud.admin = True
        self.cloud.delete_server(self.server)
        self.cloud.deleted[self.server]['tenant_id'] = (
            fake_cloud.OTHER_PROJECT)
        del self.cloud.trunks[self.trunk]
        del self.cloud.ports[self.parent]
        report = self.run_cleanup(fp, all_projects=True)
        self.assertEqual([], self.cloud.writes())
        self.assertIn('not project %s of trunk %s' % (
            fake_cloud.PROJECT, self.trunk), str(report))

    def test_across_projects_another_project_s_subport_is_kept(self):
        # --all-projects is no licence to delete a port its trunk's project
        # does not own: the trunk goes, the port stays.
        fp = self.stand_up()
        self.cloud.delete_server(self.server)
        self.cloud.ports[self.subports[1]]['project_id'] = (
            fake_cloud.OTHER_PROJECT)
        report = self.run_cleanup(fp, all_projects=True)
        self.assertEqual([self.subports[1]], [r['id'] for r in report.left])
        self.assertIn('belongs to project %s, not %s' % (
            fake_cloud.OTHER_PROJECT, fake_cloud.PROJECT),
            report.left[0]['reason'])
        self.assertIn(self.subports[1], self.cloud.ports)
        self.assertNotIn(self.trunk, self.cloud.trunks)

    def test_other_project_trunk_pins_everything(self):
        fp = self.stand_up()
        self.cloud.delete_server(self.server)
        self.cloud.trunks[self.trunk]['project_id'] = (
            fake_cloud.OTHER_PROJECT)
        report = self.run_cleanup(fp)
        self.assertEqual([], self.cloud.writes())
        self.assertEqual(4, len(report.left))
        # Across projects the trunk goes; its ports, of another project
        # than the trunk's, stay.
        report = self.run_cleanup(fp, all_projects=True)
        self.assertNotIn(self.trunk, self.cloud.trunks)
        self.assertEqual(sorted([self.parent] + self.subports),
                         sorted(r['id'] for r in report.left))
        self.assertTrue(all('belongs to project %s, not %s' % (
            fake_cloud.PROJECT, fake_cloud.OTHER_PROJECT) in r['reason']
            for r in report.left), report.left)

    def test_subport_in_use_by_other_device_is_refused(self):
        fp = self.stand_up()
        self.cloud.delete_server(self.server)
        self.cloud.ports[self.subports[0]].update(
            device_id='dhcp-1', device_owner='network:dhcp')
        report = self.run_cleanup(fp)
        self.assertEqual([self.subports[0]], [r['id'] for r in report.left])
        self.assertIn('in use by network:dhcp dhcp-1',
                      report.left[0]['reason'])

    def test_keep_ports(self):
        fp = self.stand_up()
        self.cloud.delete_server(self.server)
        report = self.run_cleanup(fp, keep_ports=True)
        self.assertTrue(report.clean)
        self.assertNotIn(self.trunk, self.cloud.trunks)
        for pid in fp.port_ids:
            self.assertIn(pid, self.cloud.ports)
        self.assertEqual(3, len(report.kept))
        self.assertIn('kept', str(report))

    def test_parent_ports_nova_did_not_create_are_kept_by_default(self):
        for created_by, kept in (('user', True), ('unknown', True),
                                 ('compute', False)):
            self.stand_up()
            fp = cleanup.record_server(self.clients, self.server, created_by)
            self.cloud.delete_server(self.server)
            report = cleanup.cleanup(self.clients, fp, timeout=0.3,
                                     interval=0.01)
            self.assertTrue(report.clean, str(report))
            self.assertNotIn(self.trunk, self.cloud.trunks)
            for pid in self.subports:
                self.assertNotIn(pid, self.cloud.ports)
            self.assertEqual(kept, self.parent in self.cloud.ports)
            self.assertEqual([self.parent] if kept else [],
                             [k['id'] for k in report.kept])
            if created_by == 'user':
                self.assertIn('kept: a parent port Nova did not create',
                              str(report))
            elif kept:
                self.assertIn('kept: who created this parent port is not '
                              'known', str(report))

    def test_cloud_removed_trunk_but_left_ports(self):
        fp = self.stand_up()
        self.cloud.delete_server(self.server)
        self.cloud.trunks.clear()
        report = self.run_cleanup(fp)
        self.assertTrue(report.clean)
        self.assertGone(fp)

    def test_report_serialises(self):
        fp = self.stand_up()
        self.cloud.delete_server(self.server)
        report = self.run_cleanup(fp, dry_run=True)
        data = json.loads(report.to_json())
        self.assertEqual(self.server, data['server_id'])
        self.assertEqual([self.trunk], data['trunk_ids'])
        self.assertTrue(data['dry_run'])
        self.assertFalse(data['clean'])
        self.assertEqual(4, len(data['actions']))
        self.assertEqual('server-deleted',
                         data['evidence'][self.trunk]['class'])
        self.assertIn('delete_trunk', str(report))

    def test_bad_timeouts(self):
        self.assertRaises(cleanup.CleanupError, executor.Executor,
                          self.clients, timeout=0)
        self.assertRaises(cleanup.CleanupError, executor.Executor,
                          self.clients, interval=-1)


class TestGuardedWrites(base.TestCase):
    """Every write is guarded by the state it was planned from."""

    def stale_plan(self):
        """A gone server's footprint, and leftovers read before a change."""
        fp = self.stand_up()
        self.cloud.delete_server(self.server)
        return fp, cleanup.inspect(self.clients, fp)

    def test_parent_settled_before_any_subport_is_detached(self):
        fp, found = self.stale_plan()
        # A new server takes the parent after the inspect.
        other = self.cloud.boot(self.parent)
        report = self.run_cleanup(fp, found=found)
        self.assertEqual([], self.cloud.writes())
        self.assertFalse(report.clean)
        # Read again before the write: never called live, since that was
        # not asked of Nova.
        self.assertIn('parent port %s is now bound to server %s, which '
                      'cannot be proven gone' % (self.parent, other),
                      str(report))
        self.assertEqual(sorted(self.subports), sorted(
            s['port_id'] for s in self.cloud.trunks[self.trunk][
                'sub_ports']))

    def test_a_server_taking_the_parent_during_a_retry_is_seen(self):
        fp, found = self.stale_plan()
        seen = []

        def boot_during_backoff(cloud, method, path):
            # The first delete fails (503); before the retry a server
            # takes the parent: every try reads it again.
            if method == 'DELETE' and '/trunks/' in path and not seen:
                seen.append(cloud.boot(self.parent))
        self.cloud.fail('DELETE', TRUNK_PATH, 503, None, times=1)
        self.cloud.hooks.append(boot_during_backoff)
        self.cloud.driver = 'ovn'
        report = self.run_cleanup(fp, found=found)
        trunk = self.cloud.trunks[self.trunk]
        self.assertEqual(sorted(self.subports),
                         sorted(s['port_id'] for s in trunk['sub_ports']))
        self.assertIn('parent port %s is now bound to server %s'
                      % (self.parent, seen[0]), str(report))
        for pid in self.subports + [self.parent]:
            self.assertIn(pid, self.cloud.ports)

    def test_a_subport_added_before_the_trunk_delete_is_refused(self):
        fp, found = self.stale_plan()
        late = self.cloud.add_port()

        def add_before_delete(cloud, method, path):
            if method == 'GET' and path == '/v2.0/ports':
                # After the plan, before the delete. A DOWN trunk gets no
                # new revision from it: only the read before the write
                # shows it.
                cloud.hooks.clear()
                cloud.trunks[self.trunk]['sub_ports'].append(
                    {'port_id': late, 'segmentation_type': 'vlan',
                     'segmentation_id': 300})
        self.cloud.hooks.append(add_before_delete)
        report = self.run_cleanup(fp, found=found)
        self.assertEqual([], self.cloud.writes())
        self.assertIn('trunk %s has subport(s) %s it did not have when it '
                      'was read: it is in use' % (self.trunk, late),
                      str(report))
        self.assertFalse(report.clean)

    def test_trunk_changed_since_read_is_read_again(self):
        fp, found = self.stale_plan()
        # Something unrelated changed the trunk (its name): a 412, a new
        # read, and the delete goes on.
        self.cloud.change(self.cloud.trunks[self.trunk], name='renamed')
        report = self.run_cleanup(fp, found=found)
        self.assertTrue(report.clean, str(report))
        # Neutron's 412, a fresh plan that still cleans it, and a delete
        # guarded by the new revision.
        self.assertEqual(2, self.cloud.writes().count(
            ('DELETE', '/v2.0/trunks/%s' % self.trunk)))

    def test_port_taken_after_its_read_is_not_deleted(self):
        fp = self.stand_up()
        self.cloud.delete_server(self.server)
        taken = []

        def take(cloud, method, path):
            # After the re-read, before the delete: only If-Match sees it.
            if (method, path) == ('DELETE', '/v2.0/ports/%s' % self.parent) \
                    and not taken:
                taken.append(cloud.boot(self.parent))
        self.cloud.hooks.append(take)
        report = self.run_cleanup(fp)
        self.assertIn(self.parent, self.cloud.ports)
        self.assertEqual(taken[0], self.cloud.ports[self.parent]['device_id'])
        action = [a for a in report.actions
                  if (a.action, a.id) == ('delete_ports', self.parent)][0]
        self.assertEqual(rep.REFUSED, action.outcome)

    def test_an_unexpected_error_fails_its_port_alone(self):
        fp = self.stand_up()
        self.cloud.delete_server(self.server)

        def broken(cloud, method, path):
            if (method, path) == ('DELETE', '/v2.0/ports/%s' % self.parent):
                raise RuntimeError('the client broke')
        self.cloud.hooks.append(broken)
        report = self.run_cleanup(fp)
        outcomes = self.outcomes(report)
        # The subports' deletes landed before it, and say so.
        self.assertEqual(rep.FAILED, outcomes[('delete_ports', self.parent)])
        for pid in self.subports:
            self.assertEqual(rep.DONE, outcomes[('delete_ports', pid)])
            self.assertNotIn(pid, self.cloud.ports)
        failed = [a for a in report.actions if a.outcome == rep.FAILED]
        self.assertEqual('RuntimeError: the client broke', failed[0].detail)

    def changes_port(self, pid, times, **fields):
        """Someone changes a port right before each of its deletes.

        As the OVS agent does while it unwires a deleted trunk (status
        DOWN): each delete names a revision that has just gone stale.
        """
        changes = []

        def change(cloud, method, path):
            if ((method, path) == ('DELETE', '/v2.0/ports/%s' % pid) and
                    len(changes) < times):
                changes.append(path)
                cloud.change(cloud.ports[pid], **fields)
        self.cloud.hooks.append(change)

    def run_timing_waits(self, fp, sleep=None):
        """The cleanup, with the executor's waits recorded."""
        with mock.patch.object(executor, 'time', wraps=time) as timing:
            if sleep:
                timing.sleep.side_effect = sleep
            report = self.run_cleanup(fp)
        return report, [c[0][0] for c in timing.sleep.call_args_list]

    def test_port_released_since_its_read_is_deleted_at_once(self):
        fp = self.stand_up()
        self.cloud.delete_server(self.server)
        sub = self.subports[0]
        self.changes_port(sub, 1, status='DOWN', device_owner='')
        report, waits = self.run_timing_waits(fp)
        self.assertTrue(report.clean, str(report))
        self.assertNotIn(sub, self.cloud.ports)
        # Neutron's 412, the port read again, and a delete guarded by that
        # read, with no wait between: waiting would not make it likelier.
        delete = ('DELETE', '/v2.0/ports/%s' % sub)
        self.assertEqual(2, self.cloud.writes().count(delete))
        self.assertEqual([delete[1]], [p for m, p in self.cloud.requests
                                       if m == 'GET' and p == delete[1]])
        self.assertEqual([], waits)

    def test_port_that_keeps_changing_is_waited_for(self):
        fp = self.stand_up()
        self.cloud.delete_server(self.server)
        sub = self.subports[0]
        self.changes_port(sub, 3, status='DOWN', device_owner='')
        report, waits = self.run_timing_waits(fp)
        self.assertTrue(report.clean, str(report))
        self.assertEqual(4, self.cloud.writes().count(
            ('DELETE', '/v2.0/ports/%s' % sub)))
        # At once after the first 412 only.
        self.assertEqual([0.01, 0.02], waits)

    def assert_taken_while_waiting(self, meanwhile, expected_waits):
        """A tool binds the parent to a host, then boots on it: refused.

        :param meanwhile: what else happens at each wait, in turn, before
            the boot, which comes at the next.
        """
        fp = self.stand_up()
        self.cloud.delete_server(self.server)
        self.changes_port(self.parent, 1, **{'binding:host_id': 'host-2'})
        steps = list(meanwhile) + [lambda: self.cloud.boot(self.parent)]
        done = []

        def at_wait(seconds):
            if len(done) < len(steps):
                done.append(steps[len(done)]())
        report, waits = self.run_timing_waits(fp, at_wait)
        self.assertIn(self.parent, self.cloud.ports)
        self.assertEqual(done[-1],
                         self.cloud.ports[self.parent]['device_id'])
        self.assertEqual(rep.REFUSED, self.outcomes(report)[
            ('delete_ports', self.parent)])
        self.assertEqual(expected_waits, waits)

    def test_a_port_being_taken_in_two_steps_is_waited_for(self):
        # The first step's 412 is waited on, and the boot is seen.
        self.assert_taken_while_waiting([], [0.01])

    def test_a_take_over_seen_only_after_a_wait_is_waited_for_again(self):
        # ML2 commits a new host, then its binding: two revisions. After
        # the wait for the first, the second looks like nothing new; the
        # boot that comes during the next wait must still be seen.
        self.assert_taken_while_waiting([lambda: self.cloud.change(
            self.cloud.ports[self.parent], **{'binding:vif_type': 'ovs'})],
            [0.01, 0.02])

    def test_a_change_a_release_does_not_make_is_waited_for(self):
        fp = self.stand_up()
        self.cloud.delete_server(self.server)
        self.changes_port(self.parent, 1, tags=['mine'])
        report, waits = self.run_timing_waits(fp)
        self.assertTrue(report.clean, str(report))
        self.assertEqual([0.01], waits)

    def test_what_a_release_changes(self):
        bound = {'id': 'p', 'status': 'ACTIVE', 'revision_number': 3,
                 'device_id': 'd', 'device_owner': 'trunk:subport',
                 'binding:host_id': 'h', 'binding:vif_type': 'ovs',
                 'binding:profile': {'x': 1}, 'binding:vif_details': {'y': 2},
                 'name': 'n', 'tags': []}
        released = dict(bound, status='DOWN', revision_number=4,
                        device_id='', device_owner='', **{
                            'binding:host_id': '',
                            'binding:vif_type': 'unbound',
                            'binding:profile': {},
                            'binding:vif_details': {}})
        self.assertTrue(executor._released(bound, released))
        self.assertTrue(executor._released(bound, dict(bound, status='DOWN',
                                                       revision_number=4)))
        for change in ({'binding:host_id': 'h2'}, {'device_owner': 'x'},
                       {'binding:vif_type': 'binding_failed'},
                       {'name': 'm'}, {'tags': ['t']}, {'new_field': 1},
                       {'status': 'ACTIVE'}, {}):
            self.assertFalse(executor._released(
                released, dict(released, revision_number=5, **change)),
                change)
        # Neutron shows binding:* to admins only: to others, a host set
        # shows as a new revision alone, and is not taken for a release.
        member = {k: v for k, v in bound.items()
                  if not k.startswith('binding:')}
        self.assertFalse(executor._released(
            member, dict(member, revision_number=4)))
        self.assertFalse(executor._released(
            member, dict(member, status='DOWN', **{'binding:host_id': ''})))

    def test_no_if_match_on_member_actions(self):
        fp = self.stand_up()
        self.cloud.delete_server(self.server)
        report = self.run_cleanup(fp)
        # The fake answers 500 to If-Match on a member action, as Neutron.
        self.assertTrue(report.clean, str(report))

    def test_a_404_that_is_not_neutrons_is_not_gone(self):
        fp = self.stand_up()
        self.cloud.delete_server(self.server)
        self.cloud.faults.append(fake_cloud.Fault(
            'DELETE', PORT_PATH, 404, '<html>Not Found</html>', times=-1))
        report = self.run_cleanup(fp)
        self.assertFalse(report.clean)
        deletes = [a for a in report.actions if a.action == 'delete_ports']
        self.assertEqual({rep.FAILED}, {a.outcome for a in deletes})
        self.assertIn("not Neutron's own", deletes[0].detail)

    def test_a_parent_left_out_of_the_reads_is_not_free(self):
        # A read without the parent, with trunk_details or without: the
        # trunk is still there, so the read cannot be trusted.
        for extensions in (('trunk', 'trunk-details'), ('trunk',)):
            self.cloud.extensions = set(extensions)
            fp, found = self.stale_plan()
            self.cloud.boot(self.parent)
            self.cloud.hidden = {self.parent}
            self.cloud.requests.clear()
            report = self.run_cleanup(fp, found=found)
            self.assertEqual([], self.cloud.writes(), extensions)
            self.assertEqual(rep.FAILED, self.outcomes(report)[
                ('delete_trunk', self.trunk)], extensions)
            self.assertIn('parent port %s was not in the read: nothing '
                          'proves it is free' % self.parent, str(report))
            self.cloud.hidden = set()

    def test_a_parent_left_out_of_its_second_read_is_not_free(self):
        # Where ports show no trunk_details, the parent is read again
        # after the trunk: one missing from that read is not free either.
        self.cloud.extensions = {'trunk'}
        fp, found = self.stale_plan()
        trunk_reads = []

        def bind_and_hide(cloud, method, path):
            # The guard's read of the trunk, after its parent's.
            if (method, path) == ('GET', '/v2.0/trunks') and not trunk_reads:
                trunk_reads.append((method, path))
                cloud.boot(self.parent)
                cloud.hidden.add(self.parent)
        self.cloud.hooks.append(bind_and_hide)
        report = self.run_cleanup(fp, found=found)
        self.assertEqual([], self.cloud.writes())
        self.assertEqual([('GET', '/v2.0/trunks')], trunk_reads)
        self.assertIn('parent port %s was not in the read' % self.parent,
                      str(report))

    def test_a_trunk_or_port_left_out_of_the_reads_is_not_gone(self):
        self.cloud.extensions = {'trunk'}
        fp, found = self.stale_plan()
        self.cloud.hidden = {self.trunk}
        report = self.run_cleanup(fp, found=found)
        self.assertEqual([], self.cloud.writes())
        self.assertIn('trunk %s was not in the read, though Neutron shows '
                      'it' % self.trunk, str(report))
        # Truly gone: Neutron says so of that trunk.
        self.cloud.hidden = set()
        self.cloud.trunks.pop(self.trunk)
        report = self.run_cleanup(fp, found=found, keep_ports=True)
        self.assertEqual([], self.cloud.writes())
        self.assertEqual(rep.GONE, self.outcomes(report)[
            ('delete_trunk', self.trunk)])
        self.assertIn('TrunkNotFound', str(report))
        # A port left out of the read before its delete.
        fp, found = self.stale_plan()
        self.cloud.hidden = {self.subports[0]}
        report = self.run_cleanup(fp, found=found)
        self.assertNotIn(('DELETE', '/v2.0/ports/%s' % self.subports[0]),
                         self.cloud.writes())
        self.assertIn(self.subports[0], self.cloud.ports)
        self.assertEqual(rep.FAILED, self.outcomes(report)[
            ('delete_ports', self.subports[0])])
        self.assertIn('port %s was not in the read' % self.subports[0],
                      str(report))

    def test_a_404_of_another_resource_is_not_gone(self):
        # Neutron answers a trunk's delete with PortNotFound for a parent
        # these credentials cannot see: the trunk is there.
        fp = self.stand_up()
        self.cloud.delete_server(self.server)
        self.cloud.fail('DELETE', TRUNK_PATH, 404, 'PortNotFound',
                        'Port %s could not be found.' % self.parent)
        self.cloud.fail('DELETE', PORT_PATH, 404, 'PortNotFound',
                        'Port %s could not be found.' % self.parent)
        report = self.run_cleanup(fp)
        self.assertEqual(rep.FAILED, self.outcomes(report)[
            ('delete_trunk', self.trunk)])
        self.assertIn(self.trunk, self.cloud.trunks)
        self.assertEqual([('DELETE', '/v2.0/trunks/%s' % self.trunk)],
                         self.cloud.writes()[-1:])
        # And a port's delete answered with another port's 404.
        self.cloud.faults.clear()
        fp = self.stand_up()
        self.cloud.delete_server(self.server)
        self.cloud.fail('DELETE', PORT_PATH, 404, 'PortNotFound',
                        'Port %s could not be found.' % self.parent)
        report = self.run_cleanup(fp, keep_ports=False)
        failed = [a.id for a in report.actions if a.outcome == rep.FAILED]
        self.assertEqual(1, len(failed), str(report))
        self.assertIn(failed[0], self.cloud.ports)

    def test_a_404_of_another_kind_naming_the_trunk_is_not_gone(self):
        fp = self.stand_up()
        self.cloud.delete_server(self.server)
        self.cloud.fail('DELETE', TRUNK_PATH, 404, 'SubPortNotFound',
                        'SubPort %s on trunk %s could not be found.'
                        % (self.subports[0], self.trunk))
        report = self.run_cleanup(fp)
        self.assertEqual(rep.FAILED, self.outcomes(report)[
            ('delete_trunk', self.trunk)])

    def test_what_another_cleaner_removed_meanwhile_is_gone(self):
        # The trunk and its parent, before the guard's read of them.
        fp, found = self.stale_plan()
        self.cloud.trunks.pop(self.trunk)
        self.cloud.ports.pop(self.parent)
        report = self.run_cleanup(fp, found=found, keep_ports=True)
        self.assertEqual(rep.GONE, self.outcomes(report)[
            ('delete_trunk', self.trunk)], str(report))
        self.assertIn('TrunkNotFound', str(report))
        # A port between its read and its delete; a parent between its
        # read and its unbind.
        for unbind in (False, True):
            fp = self.stand_up()
            self.cloud.delete_server(self.server, unbind=not unbind)
            method = 'PUT' if unbind else 'DELETE'
            pid = self.parent if unbind else self.subports[0]

            def other_cleaner(cloud, m, path, method=method, pid=pid):
                if (m, path) == (method, '/v2.0/ports/%s' % pid):
                    cloud.hooks.clear()
                    cloud.ports.pop(pid)
            self.cloud.hooks.append(other_cleaner)
            # An unbind is an admin's: Neutron shows it the binding.
            self.cloud.admin = unbind
            report = self.run_cleanup(fp, unbind_stale=unbind)
            action = 'unbind_parent' if unbind else 'delete_ports'
            self.assertEqual(rep.GONE, self.outcomes(report)[
                (action, pid)], str(report))

    def test_a_changed_trunk_the_fresh_plan_does_not_clean_is_kept(self):
        # Its fresh read leaves it out: not planned, so not written.
        fp, found = self.stale_plan()
        self.cloud.change(self.cloud.trunks[self.trunk], name='renamed')
        self.cloud.hidden = {self.trunk}
        report = self.run_cleanup(fp, found=found)
        self.assertIn(self.trunk, self.cloud.trunks)
        self.assertEqual(rep.REFUSED, self.outcomes(report)[
            ('delete_trunk', self.trunk)], str(report))
        self.assertIn('no longer planned', str(report))

    def test_a_parent_bound_to_a_host_is_not_called_unbound(self):
        fp = self.stand_up()
        self.cloud.delete_server(self.server, unbind=False)
        self.cloud.change(self.cloud.ports[self.parent], device_id='',
                          device_owner='')
        fp = cleanup.record_trunk(self.clients, self.trunk)
        # To a member, Neutron does not show the host at all.
        for admin, state in (
                (False, 'names no server (its host binding is not shown '
                        'to these credentials)'),
                (True, 'is bound to host %s but names no server'
                 % fake_cloud.HOST)):
            self.cloud.admin = admin
            report = self.run_cleanup(fp)
            self.assertEqual([], self.cloud.writes())
            self.assertIn('not proven: the parent port %s' % state,
                          str(report))
            found = cleanup.find_orphans(self.clients)
            self.assertIn('parent port %s %s' % (self.parent, state),
                          found[0].reason)

    def test_a_trunk_whose_parent_is_not_seen_is_not_planned(self):
        # A member's trunk on another project's port: the member sees the
        # trunk, never its parent nor what holds it.
        fp = self.stand_up()
        self.cloud.delete_server(self.server)
        self.cloud.hidden = {self.parent}
        report = self.run_cleanup(fp)
        self.assertEqual([], self.cloud.writes())
        self.assertEqual(rep.REFUSED, self.outcomes(report)[
            ('refuse', self.trunk)])
        self.assertIn('trunk %s is in the read but its parent port %s is '
                      'not: nothing proves the parent is free'
                      % (self.trunk, self.parent), str(report))

    def test_a_parent_another_projects_trunk_took_is_kept(self):
        # Neutron checks a member's delete of a parent port only against
        # the trunks of the member's project.
        fp = self.stand_up()
        self.cloud.delete_server(self.server)
        self.assertTrue(self.run_cleanup(fp, keep_ports=True).clean)
        found = cleanup.inspect(self.clients, fp)
        other = self.cloud.add_trunk(self.parent,
                                     project_id=fake_cloud.OTHER_PROJECT)
        # Made after the plan's read, then before it.
        for stale in (found, None):
            self.cloud.requests.clear()
            report = self.run_cleanup(fp, found=stale)
            self.assertNotIn(('DELETE', '/v2.0/ports/%s' % self.parent),
                             self.cloud.writes())
            self.assertIn('parent port of trunk %s, not of a trunk it is '
                          'recorded for (%s)' % (other, self.trunk),
                          str(report))
        self.assertIn(self.parent, self.cloud.ports)
        self.assertIn(other, self.cloud.trunks)

    def test_a_parent_of_another_footprint_trunk_is_held(self):
        # Two trunks in one footprint: each parent is free for its own
        # trunk only.
        fp = self.stand_up()
        self.cloud.delete_server(self.server)
        spare = self.cloud.add_port()
        second = self.cloud.add_trunk(spare)
        fp = dataclasses.replace(fp, trunks=fp.trunks + (
            cleanup.record_trunk(self.clients, second).trunks[0],))
        # The first trunk goes; then the second takes the first's parent.
        self.assertTrue(self.run_cleanup(fp, keep_ports=True).clean)
        third = self.cloud.add_trunk(self.parent)
        fp = dataclasses.replace(fp, trunks=fp.trunks[:1] + (
            cleanup.footprint.TrunkRecord(third, spare, fake_cloud.PROJECT),))
        self.cloud.requests.clear()
        report = self.run_cleanup(fp)
        self.assertNotIn(('DELETE', '/v2.0/ports/%s' % self.parent),
                         self.cloud.writes())
        # Nor is the trunk deleted that stands on another port than
        # recorded.
        self.assertIn(third, self.cloud.trunks)
        self.assertIn('trunk %s stands on port %s, not on parent port %s '
                      'its footprint records' % (third, self.parent, spare),
                      str(report))

    def test_nova_errors_prove_nothing(self):
        for status, body in ((503, {'computeFault': {'code': 503,
                                                     'message': 'down'}}),
                             (403, {'forbidden': {'code': 403,
                                                  'message': 'no'}}),
                             (404, {'itemNotFound': {
                                 'code': 404, 'message': 'The resource '
                                 'could not be found.'}})):
            fp = self.stand_up()
            self.cloud.delete_server(self.server)
            self.cloud.faults.append(fake_cloud.Fault(
                'GET', '/v2.1/servers/', status, body, times=-1))
            self.cloud.requests.clear()
            report = self.run_cleanup(fp)
            self.cloud.faults.clear()
            self.assertEqual([], self.cloud.writes(), status)
            self.assertIn('cannot be proven gone: Nova answered HTTP %s'
                          % status, str(report))

    def test_another_projects_trunk_named_by_id_is_refused(self):
        parent = self.cloud.add_port(project_id=fake_cloud.OTHER_PROJECT)
        trunk = self.cloud.add_trunk(parent,
                                     project_id=fake_cloud.OTHER_PROJECT)
        server = self.cloud.boot(parent, project_id=fake_cloud.OTHER_PROJECT)
        self.cloud.admin = True
        fp = cleanup.record_trunk(self.clients, trunk)
        self.cloud.delete_server(server, unbind=False)
        report = self.run_cleanup(fp)
        self.assertEqual([], self.cloud.writes())
        self.assertIn('belongs to project %s, not %s' % (
            fake_cloud.OTHER_PROJECT, fake_cloud.PROJECT), str(report))
        report = self.run_cleanup(fp, all_projects=True, unbind_stale=True)
        self.assertTrue(report.clean, str(report))


class TestCleanupOVN(base.TestCase):
    """ML2/OVN lets a trunk with a bound parent go."""

    driver = 'ovn'

    def test_bound_parent_of_gone_server_still_waits(self):
        fp = self.stand_up()
        self.cloud.delete_server(self.server, unbind=False)
        self.cloud.ports[self.parent]['device_id'] = ''
        report = self.run_cleanup(fp)
        self.assertTrue(report.clean, str(report))

    def test_a_trunk_on_another_port_than_recorded_is_kept(self):
        # A footprint from a file pairs a live server's trunk with some
        # other port: on ML2/OVN nothing in Neutron stops the delete.
        server, trunk, parent, _ = self.cloud.stand_up()
        spare = self.cloud.add_port()
        fp = self.stand_up()
        self.cloud.delete_server(self.server)
        record = dataclasses.replace(
            cleanup.record_trunk(self.clients, trunk).trunks[0],
            parent_port_id=spare)
        fp = dataclasses.replace(fp, trunks=(record,))
        report = self.run_cleanup(fp)
        self.assertEqual([], self.cloud.writes())
        self.assertIn(trunk, self.cloud.trunks)
        self.assertIn('trunk %s stands on port %s, not on parent port %s'
                      % (trunk, parent, spare), str(report))

    def test_a_parent_bound_while_its_trunk_is_read_keeps_it(self):
        # Where ports show no trunk_details, the trunk is read after its
        # parent; Nova binding the parent meanwhile leaves the trunk's
        # revision as it was.
        self.cloud.extensions = ('trunk',)
        fp = self.stand_up()
        self.cloud.delete_server(self.server)
        trunk_reads = []

        def nova(cloud, method, path):
            if (method, path) != ('GET', '/v2.0/trunks'):
                return
            trunk_reads.append(path)
            if len(trunk_reads) == 2:
                # The guard's read of the trunk, after its parent's.
                cloud.change(cloud.ports[self.parent], device_id='new',
                             device_owner='compute:nova', status='ACTIVE',
                             **{'binding:host_id': fake_cloud.HOST})
        self.cloud.hooks.append(nova)
        for many in (False, True):
            if many:
                report = cleanup.cleanup_many(
                    self.clients, [fp], timeout=0.3, interval=0.01,
                    delete_parent=True)[0]
            else:
                report = self.run_cleanup(fp)
            self.assertEqual(rep.REFUSED, self.outcomes(report)[
                ('delete_trunk', self.trunk)], str(report))
            self.assertIn(self.trunk, self.cloud.trunks)
            trunk_reads.clear()
            self.cloud.unbind(self.parent)

    def test_subports_lose_owner_when_trunk_goes(self):
        fp = self.stand_up()
        self.cloud.delete_server(self.server)
        report = self.run_cleanup(fp, keep_ports=True)
        self.assertTrue(report.clean)
        for pid in self.subports:
            self.assertEqual('', self.cloud.ports[pid]['device_owner'])


class TestCleanupMany(base.TestCase):

    def test_reads_are_shared_across_footprints(self):
        footprints = []
        for _ in range(12):
            footprints.append(self.stand_up(subports=2))
            self.cloud.delete_server(self.server)
        self.cloud.requests.clear()
        reports = cleanup.cleanup_many(self.clients, footprints, workers=4,
                                       timeout=0.3, interval=0.01,
                                       delete_parent=True)
        self.assertTrue(all(r.clean for r in reports))
        self.assertEqual({}, self.cloud.trunks)
        reads = [p for m, p in self.cloud.requests if m == 'GET']
        writes = [p for m, p in self.cloud.requests if m != 'GET']
        # Per trunk: delete it, delete three ports.
        self.assertEqual(12 * 4, len(writes))
        # The token's project, one inspection for all, then at most one
        # re-read of the trunk and its parent before each trunk's delete and
        # of the ports before each delete_ports step (fewer when workers
        # share one).
        self.assertLessEqual(reads.count('/v2.0/trunks'), 2 + 12)
        self.assertLessEqual(reads.count('/v2.0/ports'), 1 + 2 * 12)

    def test_ports_ride_on_the_next_footprints_read(self):
        # One worker: each footprint's ports are read with the next one's
        # parent, right before that trunk's delete; the last reads alone.
        footprints = self.deleted_servers(3)
        # Nothing waits for the gathering's deadline.
        self.patch(run, 'READ_GATHER_BUSY', 60)
        started = time.monotonic()
        reports = cleanup.cleanup_many(self.clients, footprints, workers=1,
                                       timeout=0.3, interval=0.01,
                                       delete_parent=True)
        self.assertLess(time.monotonic() - started, 10)
        self.assertTrue(all(r.clean for r in reports))
        port_reads = [p for m, p in self.cloud.requests
                      if (m, p) == ('GET', '/v2.0/ports')]
        # The inspection, a read before each trunk's delete, one for the
        # last footprint's ports.
        self.assertEqual(1 + 3 + 1, len(port_reads))
        # Each footprint's ports are deleted after the next trunk.
        deletes = [p for m, p in self.cloud.requests if m == 'DELETE']
        trunk_ids = [fp.trunk_ids[0] for fp in footprints]
        first_port = footprints[0].trunks[0].subports[0].port_id
        self.assertLess(deletes.index('/v2.0/trunks/%s' % trunk_ids[1]),
                        deletes.index('/v2.0/ports/%s' % first_port))

    def deleted_servers(self, count):
        """Footprints of ``count`` deleted servers on trunks."""
        footprints = []
        for _ in range(count):
            footprints.append(self.stand_up(subports=2))
            self.cloud.delete_server(self.server)
        self.cloud.requests.clear()
        return footprints

    def slow_cloud(self, path='', port_delay=0.01):
        """Every request takes a little; the most writes at once.

        :param path: count only the writes to a path that matches.
        :param port_delay: what a request for a port takes.
        """
        lock = threading.Lock()
        writes = [0, 0]
        real = self.cloud.request

        def slow(url, method, *args, **kwargs):
            write = method != 'GET' and bool(re.search(path, url))
            with lock:
                writes[0] += write
                writes[1] = max(writes)
            try:
                time.sleep(port_delay if '/ports/' in url else 0.01)
                return real(url, method, *args, **kwargs)
            finally:
                with lock:
                    writes[0] -= write
        self.patch(self.cloud, 'request', slow)
        return writes

    def test_writes_in_flight_are_bounded(self):
        footprints = self.deleted_servers(10)
        writes = self.slow_cloud()
        port_writes = self.slow_cloud(r'/v2\.0/ports/')
        trunk_writes = self.slow_cloud(r'/v2\.0/trunks/')
        reports = cleanup.cleanup_many(self.clients, footprints, workers=2,
                                       timeout=5, interval=0.01,
                                       delete_parent=True)
        self.assertTrue(all(r.clean for r in reports))
        # No more than the workers, port deletes and trunk writes alike.
        self.assertLessEqual(writes[1], 2)
        self.assertEqual(2, port_writes[1])
        self.assertLessEqual(trunk_writes[1], 2)

    def test_no_more_than_workers_write_at_once(self):
        # Port deletes slower than trunk writes: were a trunk's write to
        # go whatever the port deletes in flight, they would add up.
        footprints = []
        for _ in range(8):
            footprints.append(self.stand_up(subports=3))
            self.cloud.delete_server(self.server)
        writes = self.slow_cloud(port_delay=0.03)
        reports = cleanup.cleanup_many(self.clients, footprints, workers=2,
                                       timeout=5, interval=0.01,
                                       delete_parent=True)
        self.assertTrue(all(r.clean for r in reports))
        self.assertLessEqual(writes[1], 2)

    def test_a_port_delete_error_waits_for_its_neighbours(self):
        fp = self.stand_up(subports=2)
        s0 = self.subports[0]
        self.cloud.delete_server(self.server)
        trunk_gone = threading.Event()

        def hook(cloud, method, path):
            if (method, path) == ('DELETE', '/v2.0/trunks/%s' % self.trunk):
                trunk_gone.set()
            elif method == 'DELETE' and not path.endswith(s0):
                time.sleep(0.3)
        self.cloud.hooks.append(hook)
        real = leftovers.Leftovers.holder

        def holder(lo, port):
            # Breaks on the step's first port, before its delete.
            if trunk_gone.is_set() and port.id == s0:
                raise RuntimeError('the check broke')
            return real(lo, port)
        self.patch(leftovers.Leftovers, 'holder', holder)
        report = cleanup.cleanup_many(self.clients, [fp], workers=3,
                                      timeout=5, interval=0.01,
                                      delete_parent=True)[0]
        outcomes = self.outcomes(report)
        self.assertEqual(rep.FAILED, outcomes[('delete_ports', s0)])
        self.assertIn(s0, self.cloud.ports)
        # Its neighbours' deletes landed before the report, which says so.
        for pid in (self.subports[1], self.parent):
            self.assertEqual(rep.DONE, outcomes[('delete_ports', pid)])
            self.assertNotIn(pid, self.cloud.ports)
        self.assertEqual([s0], [e['id'] for e in report.left])

    def test_at_once_calls_here_what_the_pool_refuses(self):
        class Refusing(futures.ThreadPoolExecutor):
            def submit(self, fn, *args, **kwargs):
                if args[0] != 'a':
                    raise MemoryError()
                return super().submit(fn, *args, **kwargs)
        pool = Refusing(2)
        self.addCleanup(pool.shutdown, wait=True)
        calls = []

        def call(item):
            time.sleep(0.3 if item == 'a' else 0)
            calls.append((item, threading.current_thread().name))
            return item
        here = threading.current_thread().name
        self.assertEqual(['a', 'b'],
                         executor._at_once(pool, call, ['a', 'b']))
        self.assertEqual([('b', here), 'a'],
                         [calls[0], calls[1][0]])

    def test_at_once_raises_only_once_every_call_ended(self):
        pool = futures.ThreadPoolExecutor(2)
        self.addCleanup(pool.shutdown, wait=True)
        done = []

        def call(item):
            if item == 'a':
                raise RuntimeError('a broke')
            time.sleep(0.3)
            done.append(item)
        self.assertRaises(RuntimeError, executor._at_once, pool, call,
                          ['a', 'b'])
        self.assertEqual(['b'], done)

    def test_a_footprints_ports_are_deleted_at_once(self):
        fp = self.stand_up(subports=4)
        self.cloud.delete_server(self.server)
        cond = threading.Condition()
        deleting = [0, 0]

        def meet(cloud, method, path):
            # Each port delete waits (a while at most) for two more.
            if method != 'DELETE' or '/ports/' not in path:
                return
            with cond:
                deleting[0] += 1
                deleting[1] = max(deleting)
                cond.notify_all()
                cond.wait_for(lambda: deleting[1] >= 3, timeout=2)
                deleting[0] -= 1
        self.cloud.hooks.append(meet)
        reports = cleanup.cleanup_many(self.clients, [fp], workers=3,
                                       timeout=5, interval=0.01,
                                       delete_parent=True)
        self.assertTrue(reports[0].clean, str(reports[0]))
        # Its five deletes, three at once: the batch's own threads for
        # port deletes, as many as its workers.
        self.assertEqual(3, deleting[1])
        self.assertEqual(1 + 5, len(self.cloud.writes()))

    def test_a_port_delete_with_no_thread_is_made_once(self):
        # submit() queues a job before it starts its thread: when the
        # thread cannot start, the job runs here and must not run again
        # later, when its port may be someone else's.
        fp = self.stand_up(subports=2)
        s1, s2 = self.subports
        self.cloud.delete_server(self.server)
        real_start = threading.Thread.start

        def start(thread):
            if (thread.name.startswith('port-deletes_') and
                    not thread.name.endswith('_0')):
                raise RuntimeError("can't start new thread")
            return real_start(thread)
        self.patch(threading.Thread, 'start', start)
        release = threading.Event()
        deletes = []
        taker = []

        def hook(cloud, method, path):
            if method != 'DELETE' or '/ports/' not in path:
                return
            pid = path.rsplit('/', 1)[1]
            deletes.append(pid)
            if pid == s1:
                # The one thread is busy with S1: no thread for the rest.
                release.wait(5)
            elif pid == s2 and not taker:
                # A new server takes S2 as it is deleted here...
                taker.append(cloud.boot(s2))
            elif pid == self.parent:
                # ...and goes again: a late delete would find S2 free.
                cloud.delete_server(taker[0])
                release.set()
        self.cloud.hooks.append(hook)
        report = cleanup.cleanup_many(self.clients, [fp], workers=3,
                                      timeout=2, interval=0.01,
                                      delete_parent=True)[0]
        outcomes = self.outcomes(report)
        self.assertEqual(rep.REFUSED, outcomes[('delete_ports', s2)])
        self.assertIn(s2, self.cloud.ports)
        for pid in (s1, self.parent):
            self.assertEqual(rep.DONE, outcomes[('delete_ports', pid)])
            self.assertEqual(1, deletes.count(pid))

    def test_a_trunks_room_is_taken_before_its_guard_read(self):
        # Nova may bind a parent without changing its trunk's revision:
        # the read right before the trunk's delete is its guard, and no
        # wait may come between them. Here the batch's writes are full
        # when C's parent is released: C's read waits for room, not its
        # delete.
        fp_a = self.stand_up(subports=3)
        self.cloud.delete_server(self.server)
        fp_c = self.stand_up(subports=1)
        c_parent = self.parent
        # Nova has not released C's parent yet: C waits for it.
        self.cloud.delete_server(self.server, unbind=False)
        self.patch(run, 'READ_GATHER_BUSY', 0.05)
        held = []
        ended = []
        guard_reads = []
        real = self.cloud.request

        def request(url, method, *args, **kwargs):
            if (method == 'GET' and '/v2.0/ports?' in url and
                    c_parent in url and held):
                guard_reads.append(time.monotonic())
            return real(url, method, *args, **kwargs)
        self.patch(self.cloud, 'request', request)

        def hook(cloud, method, path):
            if method == 'DELETE' and '/ports/' in path and not ended:
                held.append(path)
                if len(held) == 2:
                    # Both threads for port deletes are busy, as many
                    # writes as workers: C is released now.
                    cloud.unbind(c_parent)
                time.sleep(0.3)
                ended.append(time.monotonic())
        self.cloud.hooks.append(hook)
        reports = cleanup.cleanup_many(self.clients, [fp_a, fp_c], workers=2,
                                       timeout=5, interval=0.01,
                                       delete_parent=True)
        self.assertTrue(all(r.clean for r in reports), str(reports))
        self.assertEqual(2, len(held))
        # C read its parent only once there was room for its delete.
        self.assertTrue(guard_reads)
        self.assertGreaterEqual(guard_reads[0], ended[0])

    def test_a_port_taken_while_its_neighbours_go_is_kept(self):
        fp = self.stand_up(subports=4)
        self.cloud.delete_server(self.server)
        taken = []

        def take(cloud, method, path):
            if (method, path) == ('DELETE', '/v2.0/ports/%s' % self.parent):
                taken.append(cloud.boot(self.parent))
        self.cloud.hooks.append(take)
        self.slow_cloud()
        report = cleanup.cleanup_many(self.clients, [fp], workers=8,
                                      timeout=5, interval=0.01,
                                      delete_parent=True)[0]
        self.assertEqual(taken[0], self.cloud.ports[self.parent]['device_id'])
        outcomes = self.outcomes(report)
        self.assertEqual(rep.REFUSED, outcomes[('delete_ports', self.parent)])
        for pid in self.subports:
            self.assertEqual(rep.DONE, outcomes[('delete_ports', pid)])
            self.assertNotIn(pid, self.cloud.ports)

    def test_an_interrupted_batch_starts_nothing_more(self):
        footprints = self.deleted_servers(12)
        self.slow_cloud()
        starts, stopped = [], []
        real = run.cleanup

        def recorded(*args, **kwargs):
            starts.append(time.monotonic())
            return real(*args, **kwargs)
        self.patch(run, 'cleanup', recorded)

        class Interrupt(BaseException):
            pass

        def progress(report):
            stopped.append(time.monotonic())
            raise Interrupt()
        self.assertRaises(Interrupt, cleanup.cleanup_many, self.clients,
                          footprints, workers=2, timeout=5, interval=0.01,
                          delete_parent=True, progress=progress)
        self.assertLess(len(starts), len(footprints))
        self.assertEqual([], [t for t in starts if t > stopped[0]])

    def test_a_second_interrupt_is_not_waited_out(self):
        footprints = self.deleted_servers(2)
        slow_port = footprints[1].trunks[0].parent_port_id
        self.patch(run, 'READ_GATHER_BUSY', 0.05)
        released = threading.Event()
        self.addCleanup(released.set)

        def hook(cloud, method, path):
            if (method, path) == ('DELETE', '/v2.0/ports/%s' % slow_port):
                released.wait(1.5)
        self.cloud.hooks.append(hook)

        class Interrupt(BaseException):
            pass

        class Again(BaseException):
            pass

        class Pool(futures.ThreadPoolExecutor):
            def shutdown(self, wait=True, *, cancel_futures=False):
                if cancel_futures:
                    # Interrupted again while the first one waits.
                    super().shutdown(wait=False, cancel_futures=True)
                    raise Again()
                return super().shutdown(wait=wait)
        self.patch(run.futures, 'ThreadPoolExecutor', Pool)
        stopped = []

        def progress(report):
            stopped.append(time.monotonic())
            raise Interrupt()
        self.assertRaises(Again, cleanup.cleanup_many, self.clients,
                          footprints, workers=2, timeout=5, interval=0.01,
                          delete_parent=True, progress=progress)
        self.assertLess(time.monotonic() - stopped[0], 1.0)

    def test_slots_go_to_returning_workers_first(self):
        slots = reading.Slots(1)
        self.assertTrue(slots.take())
        order = []

        def take(name, returning):
            slots.take(returning=returning)
            order.append(name)
        # Daemons: a wrong order must fail the test, not hang it.
        returner = threading.Thread(target=take, args=('back', True),
                                    daemon=True)
        returner.start()
        deadline = time.monotonic() + 10
        while not slots.returning and time.monotonic() < deadline:
            time.sleep(0.01)
        with slots.cond:
            # A place is free, the returning worker not woken yet.
            slots.free += 1
        newcomer = threading.Thread(target=take, args=('new', False),
                                    daemon=True)
        newcomer.start()
        newcomer.join(0.2)
        self.assertEqual([], order)
        with slots.cond:
            slots.cond.notify_all()
        returner.join(10)
        self.assertEqual(['back'], order)
        slots.give()
        newcomer.join(10)
        self.assertEqual(['back', 'new'], order)

    def test_closed_slots_start_nothing(self):
        slots = reading.Slots(1)
        self.assertTrue(slots.take())
        result = []
        waiter = threading.Thread(target=lambda: result.append(slots.take()),
                                  daemon=True)
        waiter.start()
        slots.close()
        waiter.join(10)
        self.assertEqual([False], result)
        # A worker under way still gets its place back.
        slots.give()
        self.assertTrue(slots.take(returning=True))

    @staticmethod
    def recording_reader(**kwargs):
        """A SharedReader over a fake list_ports; the calls it made.

        Every ID exists but ``gone``.
        """
        calls = []

        def list_ports(id, **page):
            calls.append(sorted(id))
            return {'ports': [{'id': i} for i in id if i != 'gone']}
        return reading.SharedReader(list_ports, 'ports', **kwargs), calls

    @staticmethod
    def ask_together(reader, names, extra=()):
        """Each of ``names`` asks for itself (and ``extra``) at once."""
        results = {}
        threads = [threading.Thread(
            target=lambda n=n: results.update({n: reader([n, *extra])}))
            for n in names]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return results

    def test_shared_reader_serves_every_caller(self):
        reader, calls = self.recording_reader()
        results = self.ask_together(reader, 'abcdefgh', extra=['gone'])
        self.assertEqual({n: {n: {'id': n}} for n in 'abcdefgh'}, results)
        self.assertLessEqual(len(calls), 8)
        self.assertEqual(set('abcdefgh') | {'gone'},
                         {i for c in calls for i in c})

    def test_shared_reader_gathers_every_party_into_one_call(self):
        # Ends as soon as all eight have asked, long before the deadline.
        reader, calls = self.recording_reader(parties=8, gather=30)
        started = time.monotonic()
        results = self.ask_together(reader, 'abcdefgh')
        self.assertLess(time.monotonic() - started, 10)
        self.assertEqual([sorted('abcdefgh')], calls)
        self.assertEqual({n: {n: {'id': n}} for n in 'abcdefgh'}, results)

    def test_shared_reader_gathers_no_longer_than_told(self):
        reader, calls = self.recording_reader(parties=8, gather=0.05)
        self.assertEqual({'a': {'id': 'a'}}, reader(['a']))
        self.assertEqual([['a']], calls)

    def test_follower_rides_on_the_next_read(self):
        # One party: a worker that does not follow reads at once.
        reader, calls = self.recording_reader(parties=1, gather=30)
        reader.leave(2)
        results = {}
        follower = threading.Thread(target=lambda: results.update(
            a=reader(['a'], follow=True)))
        follower.start()
        # The follower waits for the other footprint's read: no call yet.
        started = time.monotonic()
        while not reader.following and time.monotonic() - started < 10:
            time.sleep(0.01)
        self.assertEqual(1, reader.following)
        self.assertEqual([], calls)
        self.assertEqual({'b': {'id': 'b'}}, reader(['b']))
        follower.join()
        self.assertEqual([['a', 'b']], calls)
        self.assertEqual({'a': {'id': 'a'}}, results['a'])

    def test_follower_reads_when_no_one_else_will(self):
        reader, calls = self.recording_reader(parties=2, gather=30)
        reader.leave(1)
        started = time.monotonic()
        self.assertEqual({'a': {'id': 'a'}}, reader(['a'], follow=True))
        self.assertLess(time.monotonic() - started, 10)
        self.assertEqual([['a']], calls)

    def test_follower_waits_no_longer_than_told(self):
        reader, calls = self.recording_reader(parties=2, gather=0.05)
        reader.leave(2)
        started = time.monotonic()
        self.assertEqual({'a': {'id': 'a'}}, reader(['a'], follow=True))
        self.assertGreaterEqual(time.monotonic() - started, 0.05)
        self.assertEqual([['a']], calls)

    def test_shared_reader_error_is_raised_and_retried(self):
        answers = [RuntimeError('cloud down'), {'ports': [{'id': 'a'}]}]

        def list_ports(id, **page):
            answer = answers.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer
        reader = reading.SharedReader(list_ports, 'ports')
        self.assertRaises(RuntimeError, reader, ['a'])
        self.assertEqual({'a': {'id': 'a'}}, reader(['a']))

    @staticmethod
    def in_thread(block):
        """Enter ``block`` on a thread of its own; an Event set inside."""
        inside = threading.Event()

        def run():
            with block:
                inside.set()
        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        return inside, thread

    def test_a_reserved_write_needs_its_room(self):
        traffic = reading.Traffic(limit=1)
        self.assertRaises(RuntimeError,
                          traffic.writing(reserved=True).__enter__)
        self.assertEqual((0, 0), (traffic.writes, traffic.held))

    def test_a_write_waits_for_room_no_longer_than_its_timeout(self):
        fp = self.stand_up(subports=1)
        self.cloud.delete_server(self.server)
        traffic = reading.Traffic(limit=1)
        reader = reading.SharedReader(self.clients.ports_client.list_ports,
                                      'ports', traffic=traffic)
        hung, release = threading.Event(), threading.Event()
        self.addCleanup(release.set)

        def hang():
            # Another write of the batch hangs (a stuck connection).
            with traffic.writing(wait=True):
                hung.set()
                release.wait(10)
        threading.Thread(target=hang, daemon=True).start()
        self.assertTrue(hung.wait(10))
        started = time.monotonic()
        report = cleanup.cleanup(self.clients, fp, timeout=0.3,
                                 interval=0.01, read_ports=reader,
                                 delete_parent=True)
        self.assertLess(time.monotonic() - started, 2)
        outcomes = self.outcomes(report)
        self.assertEqual(rep.FAILED, outcomes[('delete_trunk', self.trunk)])
        self.assertIn('no room', report.actions[0].detail)
        self.assertIn(self.trunk, self.cloud.trunks)
        self.assertEqual([], self.cloud.writes())

    @staticmethod
    @contextlib.contextmanager
    def taken_room(traffic):
        """A trunk write's room, taken before a read of its own."""
        with traffic.room() as room:
            room.take()
            yield room

    def test_a_write_that_may_wait_starts_once_there_is_room(self):
        traffic = reading.Traffic(limit=2)
        with traffic.writing(wait=True):
            with self.taken_room(traffic):
                # A port delete and a trunk's room to come: full.
                delete, thread = self.in_thread(traffic.writing(wait=True))
                trunk, other = self.in_thread(self.taken_room(traffic))
                self.assertFalse(delete.wait(0.2))
                self.assertFalse(trunk.is_set())
                # The trunk's own write takes the room it holds.
                with traffic.writing(reserved=True):
                    self.assertEqual((2, 0), (traffic.writes,
                                              traffic.held))
                self.assertEqual((1, 1), (traffic.writes, traffic.held))
                self.assertFalse(delete.is_set() or trunk.is_set())
        self.assertTrue(delete.wait(10) and trunk.wait(10))
        thread.join(10)
        other.join(10)
        self.assertEqual((0, 0), (traffic.writes, traffic.held))

    def test_a_read_takes_its_rooms_before_writes_that_wait(self):
        traffic = reading.Traffic(limit=2)
        with traffic.room() as first, traffic.room() as second:
            with traffic.writing(wait=True):
                hold = threading.Thread(target=traffic.hold,
                                        args=([first, second], 30),
                                        daemon=True)
                hold.start()
                self.wait_for(lambda: traffic.pending)
                # A port delete that comes later would fit, but the
                # read asked first.
                delete, thread = self.in_thread(traffic.writing(wait=True))
                self.assertFalse(delete.wait(0.2))
            hold.join(10)
            self.assertFalse(hold.is_alive())
            self.assertTrue(first.taken and second.taken)
            # Both rooms are the read's writes' until they give them back.
            self.assertFalse(delete.wait(0.2))
        self.assertTrue(delete.wait(10))
        thread.join(10)
        self.assertNoWrites(traffic)

    def test_no_room_is_held_while_a_read_gathers(self):
        # A trunk's guard read may wait for others to ask; the room of
        # its write is taken only right before the read is sent.
        traffic = reading.Traffic(limit=2)
        reader, calls = self.recording_reader(parties=2, gather=30,
                                              traffic=traffic)
        results = {}

        def guard():
            with traffic.room() as room:
                found = reader(['a'], room=room)
                room.check()
                results.update(found=found, held=traffic.held)

        with traffic.writing(wait=True):
            # The cloud is busy: the read waits for the second party.
            asker = threading.Thread(target=guard, daemon=True)
            asker.start()
            self.wait_for(lambda: reader.busy)
            time.sleep(0.05)
            self.assertEqual(0, traffic.held)
            # Another write of the batch has the room meanwhile.
            with traffic.writing(wait=True, timeout=1):
                self.assertEqual([], calls)
            other = threading.Thread(target=reader, args=(['b'],),
                                     daemon=True)
            other.start()
            asker.join(10)
            other.join(10)
        self.assertFalse(asker.is_alive() or other.is_alive())
        self.assertEqual([['a', 'b']], calls)
        self.assertEqual({'a': {'id': 'a'}}, results['found'])
        self.assertEqual(1, results['held'])
        self.assertNoWrites(traffic)

    def test_a_read_that_finds_no_room_guards_no_write(self):
        traffic = reading.Traffic(limit=1)
        reader, calls = self.recording_reader(traffic=traffic)
        with traffic.writing(wait=True):
            with traffic.room(timeout=0.05) as room:
                # The read is made for its other askers all the same.
                self.assertEqual({'a': {'id': 'a'}},
                                 reader(['a'], room=room))
                self.assertFalse(room.taken)
                self.assertRaisesRegex(reading.NoRoom, 'no room',
                                       room.check)
        self.assertEqual([['a']], calls)
        self.assertNoWrites(traffic)

    def test_a_hung_write_costs_other_trunk_writes_only_a_wait(self):
        traffic = reading.Traffic(limit=3)
        with traffic.writing(wait=True):
            # This write hangs: two rooms of three are left for three
            # trunk writes. The first two asked take them.
            with traffic.room(10) as first, traffic.room(10) as second, \
                    traffic.room(10) as third:
                traffic.hold([third, second, first], patience=0.05)
                self.assertTrue(first.taken and second.taken)
                # The third asks again at the next read, in time.
                self.assertFalse(third.settled)
            with traffic.room(10) as third:
                traffic.hold([third])
                self.assertTrue(third.taken)
            with traffic.room(0.05) as late, traffic.room(0.05) as later:
                with traffic.room(10) as first, traffic.room(10) as second:
                    traffic.hold([first, second])
                    # Its deadline passed with no room: missed.
                    traffic.hold([late, later])
                    self.assertRaisesRegex(reading.NoRoom, 'no room',
                                           later.check)
        self.assertNoWrites(traffic)

    def test_a_room_asked_for_again_goes_first(self):
        traffic = reading.Traffic(limit=1)
        with traffic.room() as early, traffic.room() as late:
            traffic.hold([late, early])
            self.assertEqual((True, False), (early.taken, late.taken))

    def test_a_room_whose_block_ended_is_not_taken(self):
        # Its worker was interrupted while its read gathered.
        traffic = reading.Traffic(limit=1)
        with traffic.room() as gone:
            pass
        with traffic.room() as room:
            traffic.hold([gone, room])
            self.assertEqual((False, True), (gone.taken, room.taken))
        self.assertEqual(0, traffic.held)

    def test_a_failed_read_gives_back_the_rooms_of_its_askers(self):
        traffic = reading.Traffic(limit=3)
        calls = []

        def list_ports(id, **page):
            calls.append(sorted(id))
            if len(calls) == 1:
                raise RuntimeError('cloud down')
            return {'ports': [{'id': i} for i in id]}
        reader = reading.SharedReader(list_ports, 'ports', parties=2,
                                      gather=30, traffic=traffic)
        results, errors, threads = {}, {}, {}

        def guard(name):
            with traffic.room() as room:
                try:
                    found = reader([name], room=room)
                    room.check()
                except (RuntimeError, reading.NoRoom) as exc:
                    errors[name] = exc
                    return
                results[name] = (found, room.taken)

        with traffic.writing(wait=True):
            for name in 'ab':
                threads[name] = threading.Thread(target=guard, args=(name,),
                                                 daemon=True)
                threads[name].start()
            self.wait_for(lambda: errors)
            failed, = errors
            threads[failed].join(10)
            self.assertFalse(threads[failed].is_alive())
            # The other waits for the next read, gathering while the
            # cloud is busy: its room is not held meanwhile.
            self.wait_for(lambda: reader.busy)
            self.assertEqual(0, traffic.held)
        for thread in threads.values():
            thread.join(10)
            self.assertFalse(thread.is_alive())
        self.assertIsInstance(errors[failed], RuntimeError)
        (other, (found, taken)), = results.items()
        # Its room was taken again, right before the read that served it.
        self.assertEqual(({other: {'id': other}}, True), (found, taken))
        self.assertNoWrites(traffic)

    def test_a_read_that_failed_keeps_no_room_of_its_lead(self):
        traffic = reading.Traffic(limit=1)
        reader, calls = self.recording_reader(traffic=traffic)
        real = traffic.hold
        fails = [RuntimeError('interrupted')]

        def hold(rooms, patience=0.0):
            if fails:
                raise fails.pop()
            return real(rooms, patience)
        self.patch(traffic, 'hold', hold)
        with traffic.room() as room:
            self.assertRaises(RuntimeError, reader, ['a'], room=room)
            # The error is its own: no read takes its room for it.
            self.assertEqual([], reader.rooms)
        # The next read takes the room of its own write alone, and it is
        # given back: the failed one's lead is not waited for again.
        with traffic.room(timeout=1) as room:
            reader(['b'], room=room)
            room.check()
            self.assertEqual(1, traffic.held)
        self.assertEqual([['a', 'b']], calls)
        self.assertNoWrites(traffic)

    def test_the_ids_a_write_waits_for_are_read_last(self):
        calls = []

        def list_ports(id, **page):
            calls.append(list(id))
            return {'ports': [{'id': i} for i in id]}
        ids = ['%03d' % i for i in range(150)]
        found = listing.by_id(list_ports, 'ports', ids, last=['000'])
        self.assertEqual(set(ids), set(found))
        self.assertEqual([50, 100], [len(c) for c in calls])
        self.assertEqual('000', calls[-1][-1])

    def test_a_shared_read_reads_the_ids_writes_wait_for_last(self):
        traffic = reading.Traffic(limit=2)
        reader, calls = self.recording_reader(parties=2, gather=30,
                                              traffic=traffic)
        ports = ['p%03d' % i for i in range(150)]
        found = {}

        def guard():
            with traffic.room() as room:
                found.update(reader(['a'], room=room))
                room.check()

        with traffic.writing(wait=True):
            # A parent ('a' sorts first) whose trunk's write waits for
            # the read, and a footprint's many ports.
            asker = threading.Thread(target=guard, daemon=True)
            asker.start()
            self.wait_for(lambda: reader.busy)
            self.assertEqual(set(ports), set(reader(ports)))
            asker.join(10)
            self.assertFalse(asker.is_alive())
        self.assertEqual({'a'}, set(found))
        self.assertEqual([51, 100], [len(c) for c in calls])
        self.assertIn('a', calls[-1])

    def test_a_trunk_write_left_without_room_asks_again(self):
        # One write hangs: one room of two for two trunk writes read
        # together. The one asked first writes; the other's worker
        # asks again, and its room comes once the first has written.
        fp = self.stand_up(subports=1)
        traffic = reading.Traffic(limit=2)
        reader = reading.SharedReader(self.clients.ports_client.list_ports,
                                      'ports', parties=2, gather=0.05,
                                      traffic=traffic)
        engine = executor.Executor(self.clients, timeout=5, interval=0.01,
                                   read_ports=reader)
        parent = fp.trunks[0].parent_port_id
        taken = []
        holds = []
        real = traffic.hold

        def hold(rooms, patience=0.0):
            real(rooms, patience)
            holds.append((len(rooms), sum(r.taken for r in rooms)))
        self.patch(traffic, 'hold', hold)

        def trunk_step():
            with traffic.room(timeout=5) as room:
                engine._guard_read(parent, room)
                taken.append(room.taken)
                # Its write.
                with traffic.writing(reserved=True):
                    time.sleep(0.1)
        with traffic.writing(wait=True):
            steps = [threading.Thread(target=trunk_step, daemon=True)
                     for _ in range(2)]
            for step in steps:
                step.start()
            for step in steps:
                step.join(10)
                self.assertFalse(step.is_alive())
        self.assertEqual([True, True], taken)
        # Read together, one room between them; then the other's alone.
        self.assertEqual([(2, 1), (1, 1)], holds)
        self.assertNoWrites(traffic)

    def test_a_read_waits_for_writes_whose_room_is_taken(self):
        # A trunk write about to go keeps the cloud busy as one in
        # flight does: a read gathers meanwhile, and goes once it ends.
        traffic = reading.Traffic(limit=2)
        reader, calls = self.recording_reader(parties=2, gather=30,
                                              traffic=traffic)
        with traffic.room() as room:
            room.take()
            asker = threading.Thread(target=reader, args=(['a'],),
                                     daemon=True)
            asker.start()
            self.wait_for(lambda: reader.busy)
            time.sleep(0.1)
            self.assertEqual([], calls)
        asker.join(1)
        self.assertFalse(asker.is_alive())
        self.assertEqual([['a']], calls)

    def test_a_read_guards_no_more_writes_than_fit_in_its_last_call(self):
        self.patch(listing, 'IDS_PER_CALL', 3)
        traffic = reading.Traffic(limit=3)
        reader, calls = self.recording_reader(parties=2, gather=30,
                                              traffic=traffic)
        with traffic.room() as old, traffic.room() as new:
            with traffic.writing(wait=True):
                asker = threading.Thread(
                    target=reader, args=(['a', 'b'],), kwargs={'room': old},
                    daemon=True)
                asker.start()
                self.wait_for(lambda: reader.busy)
                reader(['c', 'd'], room=new)
                asker.join(10)
            # The older's two IDs and the newer's two do not fit in one
            # call: the newer asks again.
            self.assertEqual((True, False), (old.taken, new.settled))
            self.assertEqual([['c'], ['a', 'b', 'd']], calls)

    def assertNoWrites(self, traffic):
        """No write in flight, no room taken or waited for."""
        self.assertEqual((0, 0, 0), (traffic.writes, traffic.held,
                                     traffic.pending))

    @staticmethod
    def wait_for(condition, timeout=10):
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError('not so after %ss' % timeout)
            time.sleep(0.01)


class TestErrorText(base.TestCase):

    def test_shapes(self):
        class Exc(Exception):
            pass
        exc = Exc('boom')
        self.assertEqual('boom', errors.error_text(exc))
        exc.resp_body = {'message': 'no type'}
        self.assertEqual('no type', errors.error_text(exc))
        exc.resp_body = 'text body'
        exc.resp = type('R', (), {'status': 502})()
        self.assertEqual('HTTP 502 text body', errors.error_text(exc))
