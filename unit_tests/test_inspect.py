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

from trunk_cleanup_tempest import cleanup
from trunk_cleanup_tempest.cleanup import leftovers
from trunk_cleanup_tempest.cleanup import listing
from unit_tests import base
from unit_tests import fake_cloud


class TestInspect(base.TestCase):

    def test_live_server(self):
        fp = self.stand_up()
        left = cleanup.inspect(self.clients, fp)
        self.assertTrue(left.server_alive)
        self.assertEqual('ACTIVE', left.server.status)
        parent = left.ports[self.parent]
        # A binding's host shows to an admin only.
        self.assertEqual((True, self.server, None, 'parent'),
                         (parent.present, parent.device_id,
                          parent.binding_host, parent.role))
        self.cloud.admin = True
        self.assertEqual(fake_cloud.HOST, cleanup.inspect(
            self.clients, fp).ports[self.parent].binding_host)
        self.assertEqual('ACTIVE', left.trunks[self.trunk].status)
        self.assertEqual(sorted(self.subports),
                         left.trunks[self.trunk].sub_ports)
        self.assertEqual('bound to live server %s' % self.server,
                         left.holder(parent))

    def test_after_stock_server_delete(self):
        fp = self.stand_up()
        self.cloud.delete_server(self.server)
        left = cleanup.inspect(self.clients, fp)
        self.assertFalse(left.server_alive)
        self.assertFalse(left.server.present)
        trunk = left.trunks[self.trunk]
        self.assertEqual(('DOWN', True), (trunk.status, trunk.present))
        parent = left.ports[self.parent]
        self.assertEqual(('', None), (parent.device_id, parent.binding_host))
        self.assertIsNone(left.holder(parent))
        self.assertEqual(4, len(left.present))
        self.assertFalse(left.clean)

    def test_everything_gone(self):
        fp = self.stand_up()
        self.cloud.delete_server(self.server)
        self.cloud.trunks.clear()
        self.cloud.ports.clear()
        left = cleanup.inspect(self.clients, fp)
        self.assertTrue(left.clean)
        self.assertEqual([], left.present)
        self.assertEqual({'server', 'trunks', 'ports'}, set(left.to_dict()))

    def test_calls_do_not_grow_with_subports(self):
        fp = self.stand_up(subports=64)
        self.cloud.requests.clear()
        cleanup.inspect(self.clients, fp)
        self.assertEqual(['GET'] * 3,
                         [m for m, _ in self.cloud.requests])

    def test_a_chunk_whose_every_id_exists_is_one_call(self):
        # 100 ports: Neutron links a next page to a full page, which
        # would be read for nothing.
        fp = self.stand_up(subports=listing.IDS_PER_CALL - 1)
        self.cloud.requests.clear()
        found = cleanup.inspect(self.clients, fp)
        self.assertEqual(listing.IDS_PER_CALL, len(found.ports))
        self.assertEqual(['/v2.0/trunks', '/v2.0/ports'],
                         [p for _, p in self.cloud.requests
                          if p.startswith('/v2.0')])

    def test_huge_subport_lists_are_read_in_chunks(self):
        self.stand_up()
        self.cloud.delete_server(self.server)
        record = cleanup.record_trunk(self.clients, self.trunk).trunks[0]
        bogus = tuple(cleanup.footprint.Subport('missing-%d' % i, 'vlan', i)
                      for i in range(250))
        fp = cleanup.Footprint(project_id=record.project_id, trunks=(
            cleanup.footprint.TrunkRecord(
                record.trunk_id, record.parent_port_id, record.project_id,
                record.subports + bogus),), server_id=self.server)
        self.cloud.requests.clear()
        found = cleanup.inspect(self.clients, fp)
        # 253 port IDs: three calls of at most 100; the trunk in one; a
        # member's server list by ID refused, then its project's read.
        self.assertEqual(['/v2.0/trunks'] + ['/v2.0/ports'] * 3 +
                         ['/v2.1/servers/%s' % self.server] +
                         ['/v2.1/servers/detail'] * 2,
                         [p for _, p in self.cloud.requests])
        self.assertEqual(4, len(found.present))
        report = self.run_cleanup(fp)
        self.assertTrue(report.clean, str(report))

    def test_deleted_status_is_gone_soft_deleted_is_not(self):
        fp = self.stand_up()
        self.cloud.servers[self.server]['status'] = 'SOFT_DELETED'
        self.assertTrue(cleanup.inspect(self.clients, fp).server_alive)
        self.cloud.servers[self.server]['status'] = 'DELETED'
        self.assertFalse(cleanup.inspect(self.clients, fp).server_alive)

    def test_an_admin_sees_the_server_listed_deleted(self):
        fp = self.stand_up()
        self.cloud.admin = True
        self.cloud.delete_server(self.server)
        left = cleanup.inspect(self.clients, fp)
        self.assertFalse(left.server.present)
        self.assertIn('itemNotFound', left.server.evidence)
        self.assertIn("servers list shows it DELETED at %s"
                      % self.cloud.deleted[self.server]['terminated_at'],
                      left.server.evidence)
        # Archived, the row is gone: the show's proof stands alone.
        self.cloud.deleted.clear()
        left = cleanup.inspect(self.clients, fp)
        self.assertFalse(left.server.present)
        self.assertIn('does not show it either (its rows archived, or in a '
                      'cell the list did not read)', left.server.evidence)

    def test_a_live_server_whose_mapping_is_lost_is_alive(self):
        """Nova's show says itemNotFound; its list shows it ACTIVE."""
        fp = self.stand_up()
        self.cloud.admin = True
        self.cloud.unmapped.add(self.server)
        left = cleanup.inspect(self.clients, fp)
        self.assertTrue(left.server_alive)
        self.assertIn('shows it ACTIVE', left.server.evidence)
        report = self.run_cleanup(fp, unbind_stale=True,
                                  delete_parent=True)
        self.assertFalse(report.clean)
        self.assertEqual(len(fp.port_ids), len(self.cloud.ports))
        self.assertEqual(1, len(self.cloud.trunks))

    def test_a_list_that_ignores_the_id_filter_proves_nothing(self):
        fp = self.stand_up()
        self.cloud.admin = True
        self.cloud.boot(self.cloud.add_port())
        self.cloud.delete_server(self.server)
        self.cloud.nova_uuid_filter = False
        # Not an admin to Nova, maybe (allowed every project's list, not
        # its filters), whose show sees only its own project.
        left = cleanup.inspect(self.clients, fp)
        self.assertTrue(left.server_alive)
        self.assertIn('ignored the ID filter', left.server.evidence)

    def test_other_device_liveness(self):
        fp = self.stand_up()
        self.cloud.delete_server(self.server)
        other = self.cloud.boot(self.subports[0])
        left = cleanup.inspect(self.clients, fp)
        self.assertEqual({other: True},
                         {k: v.present for k, v in left.devices.items()})
        self.assertEqual('bound to live server %s' % other,
                         left.holder(left.ports[self.subports[0]]))
        self.cloud.delete_server(other, unbind=False)
        left = cleanup.inspect(self.clients, fp)
        self.assertEqual({other: False},
                         {k: v.present for k, v in left.devices.items()})
        self.assertIsNone(left.holder(left.ports[self.subports[0]]))
        # Its rows archived: to a caller Nova lets list only its own
        # project, it is no different from another project's live server.
        del self.cloud.deleted[other]
        left = cleanup.inspect(self.clients, fp)
        self.assertIn('cannot be proven gone', left.holder(
            left.ports[self.subports[0]]))
        self.assertIn('for their own project only, does not show it',
                      left.holder(left.ports[self.subports[0]]))

    def test_a_member_s_server_deleted_before_it_reached_a_cell(self):
        # Nova deletes the build request: no cell keeps a record, so its
        # list never shows it. Its ports never named it: what only the
        # server held is cleaned.
        fp = self.stand_up()
        self.cloud.delete_server(self.server)
        del self.cloud.deleted[self.server]
        report = self.run_cleanup(fp)
        self.assertTrue(report.clean, str(report))

    def test_a_server_only_a_port_named_is_no_proof_when_unlisted(self):
        # The parent claimed another project's live server when its trunk
        # was recorded, and was unbound since: Nova shows a member that
        # server "not found" and lists it not, which proves nothing.
        self.stand_up()
        live = self.cloud.add_server(project_id=fake_cloud.OTHER_PROJECT)
        self.cloud.unbind(self.parent)
        self.cloud.change(self.cloud.ports[self.parent], device_id=live,
                          device_owner='compute:nova')
        self.cloud.delete_server(self.server)
        fp = cleanup.record(self.clients, trunk_id=self.trunk)
        self.assertEqual((live, False), (fp.server_id, fp.own_server))
        self.cloud.change(self.cloud.ports[self.parent], device_id='',
                          device_owner='')
        report = self.run_cleanup(fp)
        self.assertEqual([], self.cloud.writes())
        self.assertIn('not proven', str(report))
        fp = cleanup.Footprint.from_dict(dict(fp.to_dict(), own_server=True))
        self.assertTrue(fp.own_server)
        # Known as its own, but to credentials of another project: Nova
        # shows them any server of this one "not found", alive or not.
        fp = dataclasses.replace(fp, server_id=live,
                                 project_id=fake_cloud.OTHER_PROJECT)
        report = self.run_cleanup(fp, all_projects=True)
        self.assertEqual([], self.cloud.writes())
        self.assertRaises(cleanup.InvalidFootprint,
                          cleanup.Footprint.from_dict,
                          dict(fp.to_dict(), own_server='yes'))

    def test_holder_rules(self):
        footprint = cleanup.Footprint(project_id='pr', trunks=(
            cleanup.footprint.TrunkRecord('t', 'p', 'pr'),))
        left = leftovers.Leftovers(footprint=footprint, server=None,
                                   trunks={}, ports={})

        def port(**kw):
            return leftovers.ResourceState(kind='port', id='p',
                                           present=True, **kw)
        self.assertIsNone(left.holder(port(device_id='')))
        self.assertIsNone(left.holder(port(device_id='', parent_of='t')))
        self.assertIsNone(left.holder(port(device_id='t',
                                           device_owner='trunk:subport')))
        # Another trunk's parent: Neutron checks its delete only against
        # the trunks of the caller's project.
        self.assertEqual("the parent port of trunk t2, not of a trunk it "
                         "is recorded for (t)", left.holder(
                             port(device_id='', parent_of='t2')))
        self.assertIsNone(left.holder(port(device_id='t2',
                                           device_owner='trunk:subport')))
        self.assertEqual('in use by network:dhcp d', left.holder(
            port(device_id='d', device_owner='network:dhcp')))
        # A server never looked up is taken as alive, and not called so.
        self.assertEqual('bound to server s, which cannot be proven gone',
                         left.holder(port(device_id='s',
                                          device_owner='compute:nova')))
        self.assertIsNone(left.holder(leftovers.ResourceState(
            kind='port', id='p', present=False)))
