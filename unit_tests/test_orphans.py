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

import urllib3

from trunk_cleanup_tempest import cleanup
from trunk_cleanup_tempest.cleanup import listing
from trunk_cleanup_tempest.cleanup import report as rep
from unit_tests import base
from unit_tests import fake_cloud

NOW = datetime.datetime(2026, 11, 24, 12, 0, tzinfo=datetime.timezone.utc)


class TestFindOrphans(base.TestCase):

    def find(self, **kwargs):
        kwargs.setdefault('now', NOW)
        return cleanup.find_orphans(self.clients, **kwargs)

    def test_classes_and_their_evidence(self):
        _, live_trunk, _, _ = self.cloud.stand_up()
        gone, unbound_trunk, unbound_parent, _ = self.cloud.stand_up()
        self.cloud.delete_server(gone)
        stale, stale_trunk, stale_parent, _ = self.cloud.stand_up()
        self.cloud.delete_server(stale, unbind=False)
        found = {o.trunk.trunk_id: o for o in self.find()}
        self.assertEqual({unbound_trunk, stale_trunk}, set(found))
        unbound = found[unbound_trunk]
        self.assertEqual('parent-unbound', unbound.cls)
        self.assertFalse(unbound.proven)
        self.assertIn('nothing proves a server used it', unbound.reason)
        self.assertIsNone(unbound.footprint.server_id)
        self.assertEqual('2026-11-24T09:00:00Z',
                         unbound.evidence['trunk_created_at'])
        self.assertEqual(self.cloud.ports[unbound_parent]['revision_number'],
                         unbound.evidence['parent_revision_number'])
        stale_one = found[stale_trunk]
        self.assertEqual('server-deleted', stale_one.cls)
        self.assertTrue(stale_one.proven)
        self.assertEqual('parent port %s names server %s, which Nova proves '
                         'deleted' % (stale_parent, stale), stale_one.reason)
        self.assertEqual("Nova: Instance %s could not be found. (404 "
                         "itemNotFound); Nova's servers list shows it "
                         "DELETED at %s" % (
                             stale, self.cloud.deleted[stale][
                                 'terminated_at']),
                         stale_one.evidence['server'])
        self.assertEqual(stale, stale_one.footprint.server_id)
        self.assertEqual(2, len(stale_one.to_dict()['subport_ids']))

    def test_a_404_that_is_not_novas_proves_nothing(self):
        stale, stale_trunk, _, _ = self.cloud.stand_up()
        self.cloud.delete_server(stale, unbind=False)
        # A proxy's page, or an endpoint without /v2.1: 404, not Nova's.
        self.cloud.faults.append(fake_cloud.Fault(
            'GET', '/v2.1/servers/', 404, '<html>Not Found</html>',
            times=-1))
        found = self.find()
        self.assertEqual(['undecidable'], [o.cls for o in found])
        self.assertIn('Nova answered HTTP 404', found[0].reason)
        # Nor is anything cleaned from it.
        report = cleanup.cleanup(self.clients, found[0].footprint,
                                 unbind_stale=True, delete_parent=True,
                                 timeout=0.3, interval=0.01)
        self.assertEqual([], self.cloud.writes())
        self.assertIn('cannot be proven gone', str(report))

    def test_a_claim_on_another_project_s_gone_server_proves_nothing(self):
        # device_id is free text: a port of another project than the one
        # Nova lists the server deleted in was not bound by Nova.
        self.cloud.admin = True
        gone, trunk, parent, _ = self.cloud.stand_up()
        self.cloud.delete_server(gone, unbind=False)
        for key in ('project_id', 'tenant_id'):
            self.cloud.ports[parent][key] = 'theirs'
        report = self.assertUndecidableAndUntouched(
            'which Nova lists deleted in project %s, not the port\'s '
            'project theirs' % fake_cloud.PROJECT)
        self.assertIn('Nova did not bind it', str(report))

    def assertUndecidableAndUntouched(self, why):
        """The one orphan is undecidable, and a cleanup of it writes nothing.

        The cleanup reads the cloud again, across projects, asked to unbind.
        """
        found = self.find(all_projects=True)
        self.assertEqual(['undecidable'], [o.cls for o in found])
        self.assertIn(why, found[0].reason)
        report = cleanup.cleanup(self.clients, found[0].footprint,
                                 unbind_stale=True, delete_parent=True,
                                 all_projects=True, timeout=0.3,
                                 interval=0.01)
        self.assertEqual([], self.cloud.writes())
        self.assertFalse(report.clean)
        return report

    def test_a_caller_nova_confines_sees_no_other_project_s_server_gone(
            self):
        # Nova shows a caller it lets see only its own project "not found"
        # for every server of another project, alive or not; Neutron may
        # still let it write (an admin there, or a network owner). Only
        # its own project's list, showing the server deleted, proves it.
        self.cloud.caller_project = fake_cloud.OTHER_PROJECT
        server, trunk, parent, _ = self.cloud.stand_up()
        self.cloud.change(self.cloud.ports[parent], status='DOWN')  # SHUTOFF
        self.assertUndecidableAndUntouched(
            'for their own project only, does not show it')

    def test_a_servers_list_refused_but_not_by_policy_proves_nothing(self):
        # A firewall's 403, a 5xx: the list may have shown it alive.
        self.cloud.admin = True
        gone, trunk, _, _ = self.cloud.stand_up()
        self.cloud.delete_server(gone, unbind=False)
        for status, kind in ((403, 'Forbidden'), (500, None)):
            self.cloud.fail('GET', '/servers/detail', status, kind, 'nope')
            found = self.find(all_projects=True)
            self.assertEqual(['undecidable'], [o.cls for o in found])
            self.assertIn("but Nova's servers list not read", found[0].reason)
        self.assertEqual(['server-deleted'], [
            o.cls for o in self.find(all_projects=True)])

    def test_servers_of_the_project_an_admin_names_are_not_missed(self):
        # An admin cleaning for another project: that project's live
        # servers are not in the admin's own list.
        self.cloud.admin = True
        parent = self.cloud.add_port(project_id=fake_cloud.OTHER_PROJECT)
        self.cloud.add_trunk(parent, project_id=fake_cloud.OTHER_PROJECT)
        self.cloud.boot(parent, project_id=fake_cloud.OTHER_PROJECT)
        self.assertEqual([], self.find(project_id=fake_cloud.OTHER_PROJECT))
        self.assertEqual([], self.find(all_projects=True))

    def test_a_capped_server_list_is_followed_to_its_end(self):
        self.cloud.nova_page_cap = 2
        self.cloud.neutron_page_cap = 2
        for _ in range(5):
            self.cloud.stand_up(subports=1)
        server, stale_trunk, _, _ = self.cloud.stand_up(subports=1)
        self.cloud.delete_server(server, unbind=False)
        found = self.find()
        self.assertEqual([stale_trunk], [o.trunk.trunk_id for o in found])
        self.assertEqual('server-deleted', found[0].cls)

    def test_pages_through_everything_with_list_calls(self):
        for _ in range(7):
            server, *_ = self.cloud.stand_up(subports=1)
            self.cloud.delete_server(server)
        self.cloud.requests.clear()
        self.assertEqual(7, len(cleanup.find_orphans(self.clients)))
        # Trunks in pages of 3 (3+3+1), parents in one filtered call, and
        # no Nova call: no parent is bound.
        self.patch(listing, 'PAGE_SIZE', 3)
        self.cloud.requests.clear()
        self.assertEqual(7, len(cleanup.find_orphans(self.clients)))
        self.assertEqual(['/v2.0/trunks'] * 3 + ['/v2.0/ports'],
                         [p for _, p in self.cloud.requests])
        # A cloud that caps pages below what is asked for is followed by
        # its next links, not taken at its first short page.
        self.patch(listing, 'PAGE_SIZE', 500)
        self.cloud.neutron_page_cap = 2
        self.cloud.requests.clear()
        self.assertEqual(7, len(cleanup.find_orphans(self.clients)))
        self.assertEqual(['/v2.0/trunks'] * 4 + ['/v2.0/ports'] * 4,
                         [p for _, p in self.cloud.requests])

    def test_age_and_project_and_tag_filters(self):
        # Booting and deleting a server changes its ports and trunk.
        self.cloud.clock = '2026-11-24T10:00:00Z'
        server, old, _, _ = self.cloud.stand_up(
            updated_at='2026-11-24T10:00:00Z')
        self.cloud.delete_server(server)
        self.cloud.clock = '2026-11-24T11:59:00Z'
        server, new, _, _ = self.cloud.stand_up(
            updated_at='2026-11-24T11:59:00Z', tags=['blue'])
        self.cloud.delete_server(server)
        hour = cleanup.parse_age('1h')
        self.assertEqual([old], [o.trunk.trunk_id for o in
                                 self.find(older_than=hour)])
        self.assertEqual([new], [o.trunk.trunk_id for o in
                                 self.find(tags=['blue'])])
        self.assertEqual([], self.find(project_id=fake_cloud.OTHER_PROJECT))
        self.assertEqual([old, new], [o.trunk.trunk_id for o in self.find()])

    def test_own_project_only_unless_all_projects(self):
        # An admin sees every project's trunks in Neutron: the orphans of
        # another project are still not its business without all_projects.
        parent = self.cloud.add_port(project_id=fake_cloud.OTHER_PROJECT)
        other = self.cloud.add_trunk(parent,
                                     project_id=fake_cloud.OTHER_PROJECT)
        server, mine, _, _ = self.cloud.stand_up()
        self.cloud.delete_server(server)
        self.assertEqual([mine], [o.trunk.trunk_id for o in self.find()])
        self.assertEqual({mine, other}, {o.trunk.trunk_id for o in
                                         self.find(all_projects=True)})
        self.assertEqual([other], [o.trunk.trunk_id for o in self.find(
            project_id=fake_cloud.OTHER_PROJECT)])

    def test_nothing_found(self):
        self.assertEqual([], self.find())
        self.assertEqual([], self.find(older_than=cleanup.parse_age('1s')))

    def test_parse_age(self):
        self.assertEqual(datetime.timedelta(minutes=15),
                         cleanup.parse_age('15m'))
        self.assertEqual(datetime.timedelta(days=2), cleanup.parse_age('2d'))
        for bad in ('', 'h', '1w', '-1h', '1.5h', None):
            self.assertRaises(ValueError, cleanup.parse_age, bad)

    def test_orphans_clean_with_stale_parents_unbound(self):
        stale, *_ = self.cloud.stand_up()
        self.cloud.delete_server(stale, unbind=False)
        found = self.find()
        self.cloud.admin = True
        reports = cleanup.cleanup_many(
            self.clients, [o.footprint for o in found], workers=2,
            timeout=0.3, interval=0.01, unbind_stale=True)
        self.assertTrue(reports[0].clean, str(reports[0]))
        self.assertEqual(rep.DONE, self.outcomes(reports[0])[
            ('unbind_parent', found[0].trunk.parent_port_id)])
        self.assertEqual({}, self.cloud.trunks)

    def test_a_fresh_unused_trunk_is_never_cleaned_by_default(self):
        parent = self.cloud.add_port()
        sub = self.cloud.add_port()
        trunk = self.cloud.add_trunk(parent, [sub])
        found = self.find()
        self.assertEqual(['parent-unbound'], [o.cls for o in found])
        reports = cleanup.cleanup_many(
            self.clients, [o.footprint for o in found], timeout=0.3,
            interval=0.01, delete_parent=True)
        self.assertEqual([], self.cloud.writes())
        self.assertFalse(reports[0].clean)
        self.assertIn('not proven', str(reports[0]))
        # Asked for, with an age floor the trunk has not reached.
        reports = cleanup.cleanup_many(
            self.clients, [o.footprint for o in found], timeout=0.3,
            interval=0.01, unbound_older_than=datetime.timedelta(days=1),
            now=datetime.datetime(2026, 11, 24, 12, 0,
                                  tzinfo=datetime.timezone.utc))
        self.assertEqual([], self.cloud.writes())
        self.assertIn('less than the 1 day, 0:00:00 asked for',
                      str(reports[0]))
        # Old enough: cleaned, and the report says what was not proven.
        reports = cleanup.cleanup_many(
            self.clients, [o.footprint for o in found], timeout=0.3,
            interval=0.01, unbound_older_than=datetime.timedelta(hours=1),
            now=NOW)
        self.assertTrue(reports[0].clean, str(reports[0]))
        self.assertIn('not proven', str(reports[0]))
        self.assertNotIn(trunk, self.cloud.trunks)
        self.assertIn(parent, self.cloud.ports)

    def test_one_failing_footprint_does_not_sink_the_batch(self):
        footprints = []
        for _ in range(4):
            footprints.append(self.stand_up())
            self.cloud.delete_server(self.server, unbind=False)
        self.cloud.nova_page_cap = 0
        # Every read of the first trunk's server fails: its own report
        # says so; the others are cleaned.
        self.cloud.faults.append(fake_cloud.Fault(
            'GET', '/v2.0/trunks', 503, 'down', times=1))
        broken = footprints[0]
        self.cloud.fail('DELETE', '/v2.0/trunks/%s' % broken.trunk_ids[0],
                        400, 'BadRequest', times=-1)
        self.cloud.admin = True
        reports = cleanup.cleanup_many(
            self.clients, footprints, workers=2, timeout=0.3,
            interval=0.01, unbind_stale=True)
        self.assertEqual([False, True, True, True],
                         [r.clean for r in reports])
        self.assertEqual(1, reports[0].count(rep.FAILED))


class TestCleanupMany(base.TestCase):

    def test_each_footprint_on_its_own(self):
        footprints, progress = [], []
        for _ in range(5):
            footprints.append(self.stand_up())
            self.cloud.delete_server(self.server)
        live = self.stand_up()
        reports = cleanup.cleanup_many(
            self.clients, footprints + [live], workers=3,
            progress=progress.append, timeout=0.3, interval=0.01)
        self.assertEqual([True] * 5 + [False], [r.clean for r in reports])
        self.assertEqual(6, len(progress))
        self.assertEqual(live.trunk_ids, list(self.cloud.trunks))

    def test_workers_must_be_positive(self):
        self.assertRaises(cleanup.CleanupError, cleanup.cleanup_many,
                          self.clients, [], workers=0)


class TestUnbindParent(base.TestCase):

    def setUp(self):
        super().setUp()
        # Neutron shows, and lets write, a port's binding to an admin.
        self.cloud.admin = True

    def stale(self):
        """A gone server's footprint: Nova's unbind of its parent lost."""
        fp = self.stand_up()
        self.cloud.delete_server(self.server, unbind=False)
        return fp

    def on_parent_read(self, change):
        """``change(cloud)``, once, as the parent is first read by ID."""
        def hook(cloud, method, path):
            if method == 'GET' and path == '/v2.0/ports/%s' % self.parent:
                cloud.hooks.clear()
                change(cloud)
        self.cloud.hooks.append(hook)

    def test_refuses_a_port_booted_on_meanwhile(self):
        fp = self.stale()

        def reboot(cloud):
            cloud.unbind(self.parent)
            self.other = cloud.boot(self.parent)
        self.on_parent_read(reboot)
        report = self.run_cleanup(fp, unbind_stale=True)
        self.assertEqual(rep.REFUSED,
                         self.outcomes(report)[('unbind_parent',
                                                self.parent)])
        self.assertEqual(self.other,
                         self.cloud.ports[self.parent]['device_id'])

    def test_already_unbound(self):
        fp = self.stale()
        self.on_parent_read(lambda cloud: cloud.unbind(self.parent))
        report = self.run_cleanup(fp, unbind_stale=True)
        self.assertTrue(report.clean)
        self.assertEqual(rep.GONE, self.outcomes(report)[
            ('unbind_parent', self.parent)])

    def test_a_member_waits_for_nova_instead(self):
        # Not shown the binding, a member cannot unbind it: Nova's unbind
        # is waited for, as without unbind_stale.
        self.cloud.admin = False
        for nova_unbinds in (False, True):
            fp = self.stale()
            if nova_unbinds:
                self.on_parent_read(lambda cloud: cloud.unbind(self.parent))
            self.cloud.requests.clear()
            report = self.run_cleanup(fp, unbind_stale=True)
            self.assertNotIn(('PUT', '/v2.0/ports/%s' % self.parent),
                             self.cloud.writes())
            wait = self.outcomes(report)[('wait_parent_unbound',
                                          self.parent)]
            if nova_unbinds:
                self.assertTrue(report.clean, str(report))
            else:
                self.assertEqual(rep.FAILED, wait)
                self.assertIn('host not shown', str(report))

    def test_a_device_id_cleared_with_the_host_left_is_unbound(self):
        fp = self.stale()
        self.on_parent_read(lambda cloud: cloud.change(
            cloud.ports[self.parent], device_id='', device_owner=''))
        report = self.run_cleanup(fp, unbind_stale=True)
        self.assertEqual(rep.DONE, self.outcomes(report)[
            ('unbind_parent', self.parent)], str(report))
        self.assertIn(('PUT', '/v2.0/ports/%s' % self.parent),
                      self.cloud.writes())

    def test_a_binding_changed_since_the_plan_is_not_unbound(self):
        # Planned for the gone server's binding: not for another host's,
        # nor for a port something wired meanwhile.
        for change in ({'device_id': '', 'binding:host_id': 'other'},
                       {'status': 'ACTIVE'}):
            fp = self.stale()
            self.on_parent_read(lambda cloud, change=change: cloud.change(
                cloud.ports[self.parent], **change))
            self.cloud.requests.clear()
            report = self.run_cleanup(fp, unbind_stale=True)
            self.assertEqual(rep.REFUSED, self.outcomes(report)[
                ('unbind_parent', self.parent)], str(report))
            self.assertIn('changed since it was planned', str(report))
            self.assertNotIn(('PUT', '/v2.0/ports/%s' % self.parent),
                             self.cloud.writes())


class TestConnectionErrors(base.TestCase):

    def test_dropped_connection_is_retried(self):
        fp = self.stand_up()
        self.cloud.delete_server(self.server)
        drops = []

        def drop_first_trunk_delete(cloud, method, path):
            if method == 'DELETE' and '/trunks/' in path and not drops:
                drops.append(path)
                # The cloud applied the delete, then the answer was lost.
                del cloud.trunks[self.trunk]
                raise urllib3.exceptions.ProtocolError('connection reset')
        self.cloud.hooks.append(drop_first_trunk_delete)
        report = self.run_cleanup(fp)
        self.assertTrue(report.clean, str(report))
        self.assertEqual(rep.GONE, self.outcomes(report)[
            ('delete_trunk', self.trunk)])
