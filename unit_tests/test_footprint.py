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

import dataclasses
import datetime
import json

import fixtures

from trunk_cleanup_tempest import cleanup
from trunk_cleanup_tempest.cleanup import footprint as fp_mod
from unit_tests import base
from unit_tests import fake_cloud


class TestRecord(base.TestCase):

    def test_record_server_on_trunk(self):
        fp = self.stand_up(subports=3)
        self.assertEqual(self.server, fp.server_id)
        self.assertEqual(fake_cloud.PROJECT, fp.project_id)
        self.assertEqual(1, len(fp.trunks))
        record = fp.trunks[0]
        self.assertEqual(self.trunk, record.trunk_id)
        self.assertEqual(self.parent, record.parent_port_id)
        self.assertEqual(self.subports,
                         [s.port_id for s in record.subports])
        self.assertEqual([100, 101, 102],
                         [s.segmentation_id for s in record.subports])
        self.assertEqual({'vlan'},
                         {s.segmentation_type for s in record.subports})
        self.assertEqual([self.parent] + self.subports, fp.port_ids)
        # The parent port existed before the server: the user made it.
        self.assertEqual(fp_mod.CREATED_BY_USER, record.parent_created_by)

    def test_record_costs_three_calls_whatever_the_subports(self):
        self.stand_up(subports=40)
        self.assertEqual(3, len(self.cloud.requests))

    def test_parent_created_after_server_is_unknown(self):
        parent = self.cloud.add_port(created_at='2026-11-24T10:00:01Z')
        self.cloud.add_trunk(parent)
        server = self.cloud.boot(parent)
        fp = cleanup.record_server(self.clients, server)
        self.assertEqual(fp_mod.CREATED_BY_UNKNOWN,
                         fp.trunks[0].parent_created_by)
        fp = cleanup.record_server(self.clients, server, 'compute')
        self.assertEqual(fp_mod.CREATED_BY_COMPUTE,
                         fp.trunks[0].parent_created_by)

    def test_server_without_trunk(self):
        port = self.cloud.add_port()
        server = self.cloud.boot(port)
        fp = cleanup.record_server(self.clients, server)
        self.assertEqual((), fp.trunks)
        self.assertEqual([], fp.port_ids)

    def test_server_without_ports(self):
        server = self.cloud.boot(self.cloud.add_port())
        self.cloud.ports.clear()
        self.assertEqual((), cleanup.record_server(self.clients,
                                                   server).trunks)

    def test_unknown_server(self):
        exc = self.assertRaises(cleanup.NotFound, cleanup.record_server,
                                self.clients, 'gone')
        self.assertIn('server gone not found', str(exc))

    def test_bad_created_by(self):
        self.assertRaises(ValueError, cleanup.record_server, self.clients,
                          'x', 'nobody')

    def test_record_trunk_of_bound_parent(self):
        self.stand_up()
        fp = cleanup.record_trunk(self.clients, self.trunk)
        self.assertEqual(self.server, fp.server_id)
        self.assertEqual(self.subports,
                         [s.port_id for s in fp.trunks[0].subports])

    def test_record_trunk_after_delete_has_no_server(self):
        self.stand_up()
        self.cloud.delete_server(self.server)
        fp = cleanup.record_trunk(self.clients, self.trunk)
        self.assertIsNone(fp.server_id)

    def test_record_trunk_with_parent_gone(self):
        parent = self.cloud.add_port()
        trunk = self.cloud.add_trunk(parent)
        del self.cloud.ports[parent]
        self.assertIsNone(cleanup.record_trunk(self.clients,
                                               trunk).server_id)

    def test_record_unknown_trunk(self):
        self.assertRaises(cleanup.NotFound, cleanup.record_trunk,
                          self.clients, 'nope')

    def test_record_parent_port(self):
        self.stand_up()
        fp = cleanup.record_parent_port(self.clients, self.parent)
        self.assertEqual([self.trunk], fp.trunk_ids)

    def test_record_port_that_is_no_parent(self):
        self.stand_up()
        exc = self.assertRaises(cleanup.NotFound, cleanup.record_parent_port,
                                self.clients, self.subports[0])
        self.assertIn('parent port of no trunk', str(exc))


class TestRecordOne(base.TestCase):
    """``record``: the one entry, from a server, a trunk or a port."""

    def setUp(self):
        super().setUp()
        self.live = self.stand_up()
        del self.cloud.requests[:]

    def calls(self):
        calls = [(m, p.split('/')[-1]) for m, p in self.cloud.requests]
        del self.cloud.requests[:]
        return calls

    def test_a_live_server_as_record_server(self):
        self.assertEqual(self.live, cleanup.record(
            self.clients, server_id=self.server))
        via_record = self.calls()
        cleanup.record_server(self.clients, self.server)
        self.assertEqual(self.calls(), via_record)
        fp = cleanup.record(self.clients, server_id=self.server,
                            parent_created_by='compute')
        self.assertEqual(fp_mod.CREATED_BY_COMPUTE,
                         fp.trunks[0].parent_created_by)

    def test_a_trunk_or_a_port_is_unknown_by_default(self):
        for fp in (cleanup.record(self.clients, trunk_id=self.trunk),
                   cleanup.record(self.clients, port_id=self.parent)):
            self.assertEqual([self.trunk], fp.trunk_ids)
            self.assertEqual(self.server, fp.server_id)
            self.assertEqual(fp_mod.CREATED_BY_UNKNOWN,
                             fp.trunks[0].parent_created_by)
        self.assertEqual(
            cleanup.record_parent_port(self.clients, self.parent, 'user'),
            cleanup.record(self.clients, port_id=self.parent,
                           parent_created_by='user'))
        self.assertRaises(cleanup.NotFound, cleanup.record, self.clients,
                          trunk_id='nope')

    def test_exactly_one_is_named(self):
        for named in ({}, {'server_id': self.server, 'trunk_id': self.trunk},
                      {'trunk_id': self.trunk, 'port_id': self.parent}):
            self.assertRaises(ValueError, cleanup.record, self.clients,
                              **named)
        self.assertEqual([], self.calls())

    def test_a_gone_server_by_the_ports_that_still_name_it(self):
        # Nova's unbind was lost: the parent port still names the server.
        self.cloud.delete_server(self.server, unbind=False)
        fp = cleanup.record(self.clients, server_id=self.server)
        self.assertEqual([self.trunk], fp.trunk_ids)
        self.assertEqual(self.server, fp.server_id)
        self.assertEqual(self.live.project_id, fp.project_id)
        # Found by ports, who made the parent is not known.
        self.assertEqual(fp_mod.CREATED_BY_UNKNOWN,
                         fp.trunks[0].parent_created_by)
        # Nova lets a non-admin list its own project's servers only: it
        # reads that list for the record, whose end bounds the subports.
        self.assertEqual([('GET', self.server), ('GET', 'detail'),
                          ('GET', 'detail'), ('GET', 'ports'),
                          ('GET', 'trunks'), ('GET', 'ports')], self.calls())

    def test_a_gone_server_is_linked_only_by_ports_nova_bound(self):
        # device_id is free text: a port whose owner is not Nova's, or of
        # another project than the one asked for, links nothing to it.
        self.cloud.delete_server(self.server, unbind=False)
        self.cloud.ports[self.parent]['device_owner'] = 'network:dhcp'
        self.assertRaises(cleanup.NotFound, cleanup.record, self.clients,
                          server_id=self.server)
        self.cloud.ports[self.parent]['device_owner'] = 'compute:nova'
        self.assertRaises(cleanup.NotFound, cleanup.record, self.clients,
                          server_id=self.server, project_id='theirs')
        fp = cleanup.record(self.clients, server_id=self.server,
                            project_id=self.live.project_id)
        self.assertEqual([self.trunk], fp.trunk_ids)

    def test_a_gone_server_s_name_on_another_project_s_port_links_nothing(
            self):
        # Any project's member may write a server's ID, and a compute:
        # owner, on its own port: that port is not the server's.
        self.cloud.delete_server(self.server, unbind=False)
        for key in ('project_id', 'tenant_id'):
            self.cloud.ports[self.parent][key] = 'theirs'
        self.assertRaises(cleanup.NotFound, cleanup.record, self.clients,
                          server_id=self.server)

    def test_an_admin_takes_the_project_and_the_moment_from_nova(self):
        self.cloud.admin = True
        self.cloud.delete_server(self.server, unbind=False)
        # Another project's trunk whose parent names the server, and one
        # made in its project after Nova deleted it.
        theirs = self.cloud.add_port(project_id='theirs',
                                     device_id=self.server,
                                     device_owner='compute:nova')
        self.cloud.add_trunk(theirs, project_id='theirs')
        later = self.cloud.add_port(device_id=self.server,
                                    device_owner='compute:nova')
        self.cloud.add_trunk(later, updated_at='2099-01-01T00:00:00Z')
        fp = cleanup.record(self.clients, server_id=self.server)
        self.assertEqual([self.trunk], fp.trunk_ids)
        self.assertEqual(self.live.project_id, fp.project_id)
        # Nova's record proved it the project's.
        self.assertTrue(fp.own_server)

    def test_a_caller_nova_lists_one_project_takes_no_other_s_server(self):
        # Nova's policy lets the caller list only its own project's
        # servers (a member; or a project admin where Nova's admin rule is
        # narrower than Neutron's): its project is not the gone server's
        # unless that list shows it deleted there.
        self.cloud.delete_server(self.server, unbind=False)
        self.cloud.caller_project = 'theirs'
        theirs = self.cloud.add_port(project_id='theirs',
                                     device_id=self.server,
                                     device_owner='compute:nova')
        self.cloud.add_trunk(theirs, project_id='theirs')
        exc = self.assertRaises(cleanup.NotFound, cleanup.record,
                                self.clients, server_id=self.server)
        self.assertIn("its project is not proven: Nova's servers list, "
                      "which it lets these credentials read for their own "
                      "project only, does not show it", str(exc))
        self.assertNotIn(('GET', '/v2.0/ports'), self.cloud.requests)

    def test_an_admin_takes_no_project_nova_does_not_prove(self):
        # The admin's own project is no guess: once Nova's rows are
        # archived, or its list fails, shows the server alive (its
        # instance mapping lost), or ignores the ID filter, nothing says
        # whose the ports were, and none is read.
        self.cloud.admin = True
        self.cloud.delete_server(self.server, unbind=False)
        deleted = self.cloud.deleted.pop(self.server)
        cases = {
            'its rows archived': lambda: None,
            'not read (HTTPInternalServerError: injected)': lambda: (
                self.cloud.fail('GET', '/servers/detail', 500, None)),
            'not read (Forbidden: nope)': lambda: self.cloud.fail(
                'GET', '/servers/detail', 403, 'Forbidden', 'nope'),
            'shows it ACTIVE (its instance mapping lost?)':
                lambda: self.lose_mapping(deleted),
            'ignored the ID filter': self.drop_uuid_filter,
        }
        for expected, make in cases.items():
            make()
            self.cloud.requests.clear()
            exc = self.assertRaises(cleanup.NotFound, cleanup.record,
                                    self.clients, server_id=self.server)
            self.assertIn('its project is not proven', str(exc))
            self.assertIn(expected, str(exc))
            self.assertIn('nothing is read by its ID (an admin may clean '
                          'its trunk', str(exc))
            self.assertNotIn(('GET', '/v2.0/ports'), self.cloud.requests)
        self.cloud.nova_uuid_filter = True
        self.cloud.deleted[self.server] = deleted
        self.assertEqual([self.trunk], cleanup.record(
            self.clients, server_id=self.server).trunk_ids)

    def lose_mapping(self, row):
        self.cloud.servers[self.server] = dict(row, status='ACTIVE')
        self.cloud.unmapped.add(self.server)

    def drop_uuid_filter(self):
        del self.cloud.servers[self.server]
        self.cloud.nova_uuid_filter = False
        self.cloud.boot(self.cloud.add_port())

    def test_a_gone_server_is_not_of_the_project_its_caller_says(self):
        self.cloud.delete_server(self.server, unbind=False)
        for admin in (True, False):
            self.cloud.admin = admin
            exc = self.assertRaises(cleanup.NotFound, cleanup.record,
                                    self.clients, server_id=self.server,
                                    project_id='theirs')
            self.assertIn("it was not of project theirs: Nova's servers "
                          "list shows it deleted in project %s"
                          % self.live.project_id, str(exc))

    def test_a_gone_server_s_record_must_say_when_it_ended(self):
        # Nova stamps terminated_at on every delete of a server that had
        # ports: a record without it bounds nothing, and is not taken.
        self.cloud.admin = True
        self.cloud.delete_server(self.server, unbind=False)
        row = self.cloud.deleted[self.server]
        ended = row['terminated_at']
        row['terminated_at'] = None
        exc = self.assertRaises(cleanup.NotFound, cleanup.record,
                                self.clients, server_id=self.server)
        self.assertIn('but not when it ended (no terminated_at)', str(exc))
        # The earlier of Nova's moment and the caller's stands.
        row['terminated_at'] = ended
        self.assertRaises(
            cleanup.NotFound, cleanup.record, self.clients,
            server_id=self.server, created_before=datetime.datetime(
                2026, 11, 24, 8, tzinfo=datetime.timezone.utc))
        row['terminated_at'] = '2026-11-24T08:00:00'
        self.assertRaises(
            cleanup.NotFound, cleanup.record, self.clients,
            server_id=self.server, created_before=datetime.datetime(
                2099, 1, 1, tzinfo=datetime.timezone.utc))

    def test_a_member_s_own_project_list_is_read_up_to_the_server(self):
        self.cloud.delete_server(self.server, unbind=False)
        self.cloud.nova_page_cap = 1
        # Listed before it, one a page.
        for i in range(3):
            self.cloud.servers['00000000-0000-0000-0000-00000000000%d' % i] = {
                'status': 'ACTIVE', 'tenant_id': fake_cloud.PROJECT}
        fp = cleanup.record(self.clients, server_id=self.server)
        self.assertEqual([self.trunk], fp.trunk_ids)
        # The list by ID refused, then four pages of the project's own.
        self.assertEqual(5, self.cloud.requests.count(
            ('GET', '/v2.1/servers/detail')))

    def test_watch_reads_the_ports_nova_named_whatever_the_show_says(self):
        # A proxy's 404 page proves nothing of the server, but the ports
        # Nova named in its notification are read all the same.
        self.cloud.faults.append(fake_cloud.Fault(
            'GET', '/v2.1/servers/', 404, '<html>Not Found</html>',
            times=-1))
        fp = cleanup.record(self.clients, server_id=self.server,
                            server_ports=[self.parent])
        self.assertEqual([self.trunk], fp.trunk_ids)
        self.assertRaises(cleanup.Unproven, cleanup.record, self.clients,
                          server_id=self.server)

    def test_a_gone_server_s_ports_are_read_past_a_page_cap(self):
        self.cloud.delete_server(self.server, unbind=False)
        self.cloud.neutron_page_cap = 1
        # The parent on the last page: other ports of the server first.
        for _ in range(3):
            self.cloud.add_port(device_id=self.server,
                                device_owner='compute:nova')
        self.cloud.ports[self.parent] = self.cloud.ports.pop(self.parent)
        fp = cleanup.record(self.clients, server_id=self.server)
        self.assertEqual([self.trunk], fp.trunk_ids)

    def test_a_gone_server_no_port_names(self):
        self.cloud.delete_server(self.server)
        exc = self.assertRaises(cleanup.NotFound, cleanup.record,
                                self.clients, server_id=self.server)
        self.assertIn(
            "server %s not found, and no port of project %s (Nova's servers "
            "list shows it deleted there at %s) with a compute: owner that "
            "names it parents a trunk made before then"
            % (self.server, self.live.project_id,
               self.cloud.deleted[self.server]['terminated_at']), str(exc))
        self.assertEqual([('GET', self.server), ('GET', 'detail'),
                          ('GET', 'detail'), ('GET', 'ports')],
                         self.calls())

    def test_live_only_has_no_fallback(self):
        self.cloud.delete_server(self.server, unbind=False)
        exc = self.assertRaises(cleanup.NotFound, cleanup.record,
                                self.clients, server_id=self.server,
                                live_only=True)
        self.assertIn('record its footprint before deleting it', str(exc))
        self.assertEqual([('GET', self.server)], self.calls())

    def test_a_live_server_on_no_trunk_is_not_looked_for_by_ports(self):
        # Unbound, but still shown: without the ports Nova named, the
        # footprint is the server's own, empty.
        self.cloud.unbind(self.parent)
        fp = cleanup.record(self.clients, server_id=self.server)
        self.assertEqual((), fp.trunks)
        self.assertEqual(self.server, fp.server_id)
        self.assertEqual([('GET', self.server), ('GET', 'ports')],
                         self.calls())

    def test_the_ports_nova_named(self):
        # What a notification names: used while the server still shows
        # on no trunk, and once it is gone; never the device_id look-up.
        self.cloud.unbind(self.parent)
        for gone, ports in ((False, [('GET', 'ports')]), (True, [])):
            if gone:
                self.cloud.delete_server(self.server)
            fp = cleanup.record(self.clients, server_id=self.server,
                                server_ports=[self.parent],
                                project_id='theirs')
            self.assertEqual([self.trunk], fp.trunk_ids)
            self.assertEqual(('theirs', self.server),
                             (fp.project_id, fp.server_id))
            # The ports listed are the live server's bound ones only.
            self.assertEqual([('GET', self.server)] + ports +
                             [('GET', 'trunks')], self.calls())

    def test_no_port_nova_named_leads_to_a_trunk(self):
        self.cloud.unbind(self.parent)
        # Still shown: its own footprint, empty.
        self.assertEqual((), cleanup.record(
            self.clients, server_id=self.server, server_ports=[]).trunks)
        self.cloud.delete_server(self.server)
        self.calls()
        self.assertRaises(cleanup.NotFound, cleanup.record, self.clients,
                          server_id=self.server, server_ports=[])
        self.assertEqual([('GET', self.server)], self.calls())

    def test_trunks_made_after_the_moment_are_left_out(self):
        self.cloud.delete_server(self.server)
        made = datetime.datetime(2026, 11, 24, 9, 0,
                                 tzinfo=datetime.timezone.utc)
        self.assertRaises(cleanup.NotFound, cleanup.record, self.clients,
                          server_id=self.server, server_ports=[self.parent],
                          created_before=made)
        fp = cleanup.record(self.clients, server_id=self.server,
                            server_ports=[self.parent],
                            created_before=made + datetime.timedelta(
                                seconds=1))
        self.assertEqual([self.trunk], fp.trunk_ids)


class TestFootprintFile(base.TestCase):

    def test_json_round_trip(self):
        fp = self.stand_up()
        self.assertEqual(fp, cleanup.Footprint.from_json(fp.to_json()))

    def test_a_journal_entry_written_before_own_server_is_still_done(self):
        # Entries are named after the footprint's JSON: without
        # own_server, it is as written before the field was.
        folder = self.useFixture(fixtures.TempDir()).path
        journal = cleanup.Journal(folder)
        for own in (False, True):
            fp = dataclasses.replace(self.stand_up(), own_server=own)
            self.assertEqual(own, 'own_server' in fp.to_json())
            journal.add(fp)
            self.assertEqual([fp], journal.pending())
            journal.done(fp)
            self.assertEqual([], journal.pending())

    def test_not_json(self):
        exc = self.assertRaises(cleanup.InvalidFootprint,
                                cleanup.Footprint.from_json, '{oops')
        self.assertIn('not JSON', str(exc))

    def test_missing_field(self):
        data = self.stand_up().to_dict()
        del data['trunks'][0]['parent_port_id']
        exc = self.assertRaises(cleanup.InvalidFootprint,
                                cleanup.Footprint.from_json,
                                json.dumps(data))
        self.assertIn('parent_port_id', str(exc))

    def test_wrong_types(self):
        for data in ([], {'project_id': 3}, {'project_id': 'p',
                                             'trunks': [{'trunk_id': ''}]}):
            self.assertRaises(cleanup.InvalidFootprint,
                              cleanup.Footprint.from_dict, data)

    def test_bad_created_by(self):
        data = self.stand_up().to_dict()
        data['trunks'][0]['parent_created_by'] = 'me'
        exc = self.assertRaises(cleanup.InvalidFootprint,
                                cleanup.Footprint.from_dict, data)
        self.assertIn('parent_created_by', str(exc))
