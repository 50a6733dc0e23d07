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

"""The adversarial suite: what the cleanup must never delete.

Each scenario builds, on the local cloud, a state in which a careless
cleanup deletes or detaches what is still wanted (a trunk made a moment
ago, a live server's subports, another project's server's trunk) and runs
the library or the operator command against it, as an operator would.
A run is judged on two things:

* *wrongly deleted*: a resource that had to survive is gone or changed
  (a port unbound, a subport detached, a trunk deleted);
* *lost*: the run said something untrue (called a trunk clean or a
  server gone without proof), or left what it had to clean.

Every scenario adds a line to ``safety.jsonl`` in the cloud's state
folder; ``python -m functional_tests.fault_summary`` prints the total.
"""

import datetime
import json
import os
import subprocess

from tempest.lib.common.utils import data_utils
from tempest.lib.common.utils import test_utils

from functional_tests import base
from trunk_cleanup_localcloud import faultproxy
from trunk_cleanup_tempest import cleanup
from trunk_cleanup_tempest.common import trunks as tc_trunks

RESULTS = 'safety.jsonl'
UNAVAILABLE = 'HTTPServiceUnavailable'
# A list call's path (with its query) at the proxy.
LIST = r'^/v2\.0/%s(\?|$)'
LISTS = r'^/v2\.0/(ports|trunks)(\?|$)|^/v2\.1/servers(/detail)?(\?|$)'
NOT_FOUND_PAGE = ('<html><head><title>404 Not Found</title></head><body>'
                  '<h1>Not Found</h1></body></html>')


class Ledger:
    """What one scenario did over its runs."""

    def __init__(self, scenario):
        self.scenario = scenario
        self.runs = 0
        self.lost = []
        self.wrong = []


class SafetySuite(base.FunctionalTestCase):

    def setUp(self):
        super().setUp()
        self.proxy = self.fault_proxy()

    # -- bookkeeping ---------------------------------------------------

    def finish(self, ledger):
        with open(os.path.join(self.cloud.state_dir, RESULTS), 'a') as f:
            f.write(json.dumps({'scenario': ledger.scenario,
                                'runs': ledger.runs,
                                'lost': len(ledger.lost),
                                'wrong': len(ledger.wrong)}) + '\n')
        self.assertEqual([], ledger.wrong)
        self.assertEqual([], ledger.lost)
        self.assertGreater(ledger.runs, 0)

    def state(self, trunk_ids, port_ids):
        """What must not change, as the admin sees it."""
        trunks = {t['id']: sorted(s['port_id'] for s in t['sub_ports'])
                  for t in self.admin.trunks_client.list_trunks(
                      id=list(trunk_ids))['trunks']} if trunk_ids else {}
        ports = {p['id']: (p['device_id'], p['device_owner'])
                 for p in self.admin.ports_client.list_ports(
                     id=list(port_ids))['ports']} if port_ids else {}
        return trunks, ports

    def spared(self, ledger, what, before, trunk_ids, port_ids):
        """Judge one run: everything in ``before`` is as it was."""
        ledger.runs += 1
        after = self.state(trunk_ids, port_ids)
        if after != before:
            ledger.wrong.append('%s: %s became %s' % (what, before, after))

    def refused_cli(self, ledger, what, before, ids, *args, env=None,
                    expected_code=None, says=None):
        """``trunk-cleanup ARGS`` changes none of ``ids``."""
        code, out, err = self.cli(*args, env=env)
        if expected_code is not None and code != expected_code:
            ledger.lost.append('%s: %s gave %d: %s%s'
                               % (what, args, code, out, err))
        if says and says not in out + err:
            ledger.lost.append('%s: %s does not say %r: %s%s'
                               % (what, args, says, out, err))
        self.spared(ledger, what, before, *ids)
        return out

    def writes_sent(self):
        """The writes the proxy passed on since it was last asked."""
        return ['%(method)s %(path)s' % e for e in self.proxy.events()
                if e['method'] not in ('GET', 'HEAD')]

    def live_trunk(self, clients=None, tag=None, subports=2):
        """A live server on a trunk: (trunk IDs, port IDs, server ID)."""
        trunk, parent, subs = self.trunk(subports, clients, tag)
        server = self.boot(parent['id'], clients)
        return ([trunk['id']], [parent['id']] + [s['id'] for s in subs],
                server)

    def lose_instance_mapping(self, server_id):
        """Nova's API database forgets where a live server lives.

        As after a restore of the API database from an older backup: the
        server runs on, its cell's record intact, but Nova's show answers
        ``itemNotFound``. Put back at the end, so the server can go.
        """
        keep = ('CREATE TABLE IF NOT EXISTS lost_mappings LIKE '
                'instance_mappings; ')
        where = "WHERE instance_uuid = '%s'" % server_id
        self.sql(keep + 'INSERT INTO lost_mappings SELECT * FROM '
                 'instance_mappings %s; DELETE FROM instance_mappings %s'
                 % (where, where))
        self.addCleanup(self.sql, 'INSERT INTO instance_mappings SELECT * '
                        'FROM lost_mappings %s; DELETE FROM lost_mappings %s'
                        % (where, where))

    def sql(self, statements):
        """Run SQL in Nova's API database, as the cloud's root."""
        sock = self.cloud.layout().path('mysql', 'mysqld.sock')
        subprocess.run(['mariadb', '--no-defaults', '--socket=' + sock,
                        '-uroot', 'nova_api', '-e', statements], check=True,
                       capture_output=True, timeout=60)

    # -- the scenarios -------------------------------------------------

    def test_a_fresh_unused_trunk(self):
        """Made for a server about to boot: never an orphan to clean."""
        ledger = Ledger('a fresh unused trunk')
        tag = data_utils.rand_name('fresh')
        trunk, parent, subs = self.trunk(tag=tag)
        ids = ([trunk['id']], [parent['id']] + [s['id'] for s in subs])
        before = self.state(*ids)
        out = self.refused_cli(ledger, 'orphans', before, ids, 'orphans',
                               '--tag', tag, '-f', 'json', expected_code=1)
        if [o['class'] for o in json.loads(out)] != ['parent-unbound']:
            ledger.lost.append('orphans did not call it unproven: %s' % out)
        for args in (('cleanup', '--orphans', '--tag', tag, '--yes'),
                     ('cleanup', '--trunk', trunk['id'], '--yes'),
                     ('cleanup', '--port', parent['id'], '--yes'),
                     ('cleanup', '--trunk', trunk['id'], '--yes',
                      '--include-unbound', '--older-than', '1h')):
            self.refused_cli(ledger, ' '.join(args), before, ids, *args,
                             expected_code=1, says='not proven')
        # Asked for unbound trunks, but with an age floor it has not
        # reached: not even a candidate.
        self.refused_cli(ledger, 'cleanup --orphans --include-unbound',
                         before, ids, 'cleanup', '--orphans', '--tag', tag,
                         '--yes', '--include-unbound', '--older-than', '1h',
                         expected_code=0, says='nothing to do')
        report = cleanup.cleanup(self.demo, cleanup.record_trunk(
            self.demo, trunk['id']), delete_parent=True)
        self.spared(ledger, 'the library', before, *ids)
        if report.clean or 'server is gone' in str(report):
            ledger.lost.append('the library: %s' % report)
        self.finish(ledger)

    def test_parent_reused_by_a_new_server_before_the_cleanup(self):
        ledger = Ledger('parent reused before the cleanup')
        footprint = self.orphan()
        record = footprint.trunks[0]
        server = self.boot(record.parent_port_id)
        ids = (footprint.trunk_ids, footprint.port_ids)
        before = self.state(*ids)
        report = cleanup.cleanup(self.demo, footprint, delete_parent=True,
                                 timeout=5, interval=0.2)
        self.spared(ledger, 'the library', before, *ids)
        if 'bound to live server %s' % server not in str(report):
            ledger.lost.append('the report does not name the new server: '
                               '%s' % report)
        path = self.create_tempfiles([('fp', footprint.to_json())],
                                     '.json')[0]
        self.refused_cli(ledger, 'cleanup --footprint', before, ids,
                         'cleanup', '--footprint', path, '--yes',
                         '--delete-parent-port', expected_code=1,
                         says='bound to live server %s' % server)
        self.finish(ledger)

    def test_server_bound_to_the_parent_after_the_inspect(self):
        """A long queue writes from old reads: the writes re-check."""
        ledger = Ledger('server bound between the inspect and the writes')
        footprint = self.orphan()
        stale = cleanup.inspect(self.demo, footprint)
        server = self.boot(footprint.trunks[0].parent_port_id)
        ids = (footprint.trunk_ids, footprint.port_ids)
        before = self.state(*ids)
        report = cleanup.cleanup(self.demo, footprint, found=stale,
                                 delete_parent=True, timeout=5,
                                 interval=0.2)
        self.spared(ledger, 'cleanup from an old read', before, *ids)
        if report.clean or server not in str(report):
            ledger.lost.append('the report does not say why: %s' % report)
        # The same through cleanup_many, as the command runs a queue.
        reports = cleanup.cleanup_many(self.demo, [footprint],
                                       delete_parent=True, timeout=5,
                                       interval=0.2)
        self.spared(ledger, 'cleanup_many', before, *ids)
        if reports[0].clean:
            ledger.lost.append('cleanup_many: %s' % reports[0])
        self.finish(ledger)

    def test_a_bound_parent_the_port_reads_leave_out(self):
        """A read without a trunk's parent proves nothing of its holder.

        A parent outlives its trunk, so a port list that leaves it out (a
        policy, a filtering proxy) is an answer that cannot be trusted.
        """
        ledger = Ledger('a bound parent left out of the port reads')
        footprint = self.orphan()
        stale = cleanup.inspect(self.demo, footprint)
        parent = footprint.trunks[0].parent_port_id
        self.boot(parent)
        ids = (footprint.trunk_ids, footprint.port_ids)
        before = self.state(*ids)
        self.proxy.program([faultproxy.rule('hide', LIST % 'ports', 'GET',
                                            times=0, ids=[parent])])
        hiding = base.Clients(self.proxy.environ())
        for what, says, run in (
                # Planned from a read that showed it free.
                ('cleanup from an old read',
                 'parent port %s was not in the read' % parent,
                 lambda: cleanup.cleanup(
                     hiding, footprint, found=stale, delete_parent=True,
                     timeout=5, interval=0.2)),
                ('cleanup_many', 'parent port %s is not' % parent,
                 lambda: cleanup.cleanup_many(
                     hiding, [footprint], delete_parent=True, timeout=5,
                     interval=0.2)[0])):
            report = run()
            self.spared(ledger, what, before, *ids)
            if report.clean or says not in str(report):
                ledger.lost.append('%s: %s' % (what, report))
            # Neutron refuses a bound trunk's delete; it must not be asked.
            writes = self.writes_sent()
            if writes:
                ledger.wrong.append('%s wrote: %s' % (what, writes))
        self.finish(ledger)

    def test_a_members_trunk_on_another_projects_bound_port(self):
        """The member sees its trunk, never the parent or who holds it.

        An admin can build such a trunk; only proof may clean it, not
        what a member's reads leave out.
        """
        ledger = Ledger("a member's trunk on another project's bound port")
        tag = data_utils.rand_name('unseen')
        trunk_ids, port_ids, _ = (
            self.other_projects_server_on_a_demo_trunk(tag))
        ids = (trunk_ids, port_ids)
        before = self.state(*ids)
        member = base.Clients(self.proxy.environ())
        footprint = cleanup.record_trunk(member, trunk_ids[0])
        report = cleanup.cleanup(member, footprint, timeout=5, interval=0.2,
                                 unbound_older_than=datetime.timedelta(0))
        self.spared(ledger, 'cleanup --include-unbound', before, *ids)
        says = 'parent port %s is not' % port_ids[0]
        if report.clean or says not in str(report):
            ledger.lost.append('the report: %s' % report)
        writes = self.writes_sent()
        if writes:
            ledger.wrong.append('the member wrote: %s' % writes)
        self.finish(ledger)

    def test_a_parent_another_projects_trunk_took(self):
        """Neutron checks a member's port delete against its own trunks.

        A trunk of another project made on the parent port (an admin can)
        is not seen by the check of a member's delete of that port.
        """
        ledger = Ledger("a parent port another project's trunk took")
        footprint = self.orphan()
        parent = footprint.trunks[0].parent_port_id
        tc_trunks.delete_trunk(self.demo.trunks_client,
                               footprint.trunk_ids[0])
        stale = cleanup.inspect(self.demo, footprint)
        service = base.Clients(dict(self.admin_env, OS_USERNAME='nova',
                                    OS_PROJECT_NAME='service'))
        project = self.network(service, subnet=False)['project_id']
        other = self.admin.trunks_client.create_trunk(
            port_id=parent, project_id=project)['trunk']['id']
        self.addCleanup(tc_trunks.delete_trunk, self.admin.trunks_client,
                        other)
        ids = ([other], [parent])
        before = self.state(*ids)
        member = base.Clients(self.proxy.environ())
        says = ('parent port of trunk %s, not of a trunk it is recorded for'
                % other)
        for what, found in (('cleanup from an old read', stale),
                            ('cleanup', None)):
            report = cleanup.cleanup(member, footprint, found=found,
                                     delete_parent=True, timeout=5,
                                     interval=0.2)
            self.spared(ledger, what, before, *ids)
            if says not in str(report):
                ledger.lost.append('%s: %s' % (what, report))
            writes = self.writes_sent()
            if 'DELETE /v2.0/ports/%s' % parent in writes:
                ledger.wrong.append('%s wrote: %s' % (what, writes))
        self.finish(ledger)

    def test_nova_answers_404_to_everything(self):
        """A proxy's 404 page is no proof that a server is gone."""
        ledger = Ledger('Nova answering 404 to everything')
        tag = data_utils.rand_name('nova404')
        trunk_ids, port_ids, server = self.live_trunk(tag=tag)
        ids = (trunk_ids, port_ids)
        before = self.state(*ids)
        self.proxy.program([faultproxy.rule(
            'status', r'^/v2\.1/', 'GET', times=0, status=404,
            body=NOT_FOUND_PAGE, content_type='text/html')])
        for user, code, args in (
                # Not even a footprint: the server it is read from is not
                # proven gone.
                ('demo', 2, ('cleanup', '--server', server, '--yes')),
                ('demo', 1, ('cleanup', '--trunk', trunk_ids[0], '--yes')),
                ('admin', 1, ('cleanup', '--trunk', trunk_ids[0], '--yes',
                              '--unbind-stale', '--all-projects')),
                ('demo', 1, ('cleanup', '--orphans', '--tag', tag, '--yes')),
                ('admin', 1, ('cleanup', '--orphans', '--tag', tag, '--yes',
                              '--unbind-stale', '--all-projects'))):
            self.refused_cli(ledger, ' '.join((user,) + args), before, ids,
                             *args, env=self.proxy.environ(user),
                             expected_code=code, says='cannot be proven gone')
        code, out, err = self.cli('orphans', '--tag', tag, '-f', 'json',
                                  env=self.proxy.environ())
        if [o['class'] for o in json.loads(out or '[]')] != ['undecidable']:
            ledger.lost.append('orphans: %d %s%s' % (code, out, err))
        self.proxy.program()
        self.finish(ledger)

    def test_a_live_server_nova_shows_as_not_found(self):
        """Nova's own itemNotFound, for a server that runs on.

        Its list, which reads the cells' records, still shows it.
        """
        ledger = Ledger('a live server whose instance mapping is lost')
        tag = data_utils.rand_name('unmapped')
        trunk_ids, port_ids, server = self.live_trunk(tag=tag)
        ids = (trunk_ids, port_ids)
        before = self.state(*ids)
        self.lose_instance_mapping(server)
        for code, args in ((1, ('cleanup', '--trunk', trunk_ids[0])),
                           (1, ('cleanup', '--port', port_ids[0])),
                           # No footprint: no project is proven.
                           (2, ('cleanup', '--server', server))):
            args += ('--yes', '--unbind-stale', '--delete-parent-port',
                     '--all-projects')
            self.refused_cli(ledger, 'admin ' + ' '.join(args), before, ids,
                             *args, env=self.admin_env, expected_code=code,
                             says="servers list shows it ACTIVE")
        # Not even a candidate: the list it is found by shows the server.
        self.refused_cli(ledger, 'admin cleanup --orphans', before, ids,
                         'cleanup', '--orphans', '--tag', tag, '--yes',
                         '--unbind-stale', '--delete-parent-port',
                         '--all-projects', env=self.admin_env,
                         expected_code=0, says='nothing to do')
        self.finish(ledger)

    def test_a_503_in_the_middle_of_a_batch_of_20(self):
        ledger = Ledger('a 503 in a batch of 20')
        tag = data_utils.rand_name('batch')
        trunks = self.light_trunks(20, tag)
        for trunk in trunks:
            self.left_bound_by_nova(trunk['port_id'])
        bystander_ids, bystander_ports, _ = self.live_trunk(tag=tag)
        ids = (bystander_ids, bystander_ports)
        before = self.state(*ids)
        project = trunks[0]['project_id']
        self.proxy.program([
            faultproxy.rule('status', LIST % 'ports', 'GET', nth=3,
                            times=2, status=503, type=UNAVAILABLE),
            faultproxy.rule('status', r'^/v2\.0/ports/', 'DELETE', nth=7,
                            times=2, status=503, type=UNAVAILABLE),
            faultproxy.rule('status', r'^/v2\.0/trunks/', 'DELETE', nth=11,
                            times=1, status=503, type=UNAVAILABLE),
        ])
        code, out, err = self.cli(
            'cleanup', '--orphans', '--tag', tag, '--project', project,
            '--unbind-stale', '--delete-parent-port', '--yes',
            '--interval', '0.2', '-f', 'json',
            env=self.proxy.environ('admin'))
        self.proxy.program()
        self.spared(ledger, 'the live trunk of the batch', before, *ids)
        try:
            reports = json.loads(out)
        except ValueError:
            reports = None
        if code == 2 or not isinstance(reports, list) or len(reports) != 20:
            ledger.lost.append('the batch gave %d and no report per trunk: '
                               '%s%s' % (code, out[-2000:], err))
        else:
            left = [r for r in reports if not r['clean']]
            if left and code != 1:
                ledger.lost.append('%d left, exit %d' % (len(left), code))
        # Whatever a failure left, a second run finishes.
        code, out, err = self.cli(
            'cleanup', '--orphans', '--tag', tag, '--project', project,
            '--unbind-stale', '--delete-parent-port', '--yes',
            env=self.admin_env)
        remaining = self.admin.trunks_client.list_trunks(
            id=[t['id'] for t in trunks])['trunks']
        ledger.runs += 1
        if remaining:
            ledger.lost.append('%d trunk(s) left after a second run: %s%s'
                               % (len(remaining), out[-2000:], err))
        self.finish(ledger)

    def test_live_servers_hidden_by_pages_or_projects(self):
        """A server not seen is not a server gone.

        Capped pages, an admin acting for a project, another project's
        server, a shelved server.
        """
        tag = data_utils.rand_name('hidden')
        live = [self.live_trunk(tag=tag, subports=1) for _ in range(3)]
        other = self.other_projects_server_on_a_demo_trunk(tag)
        trunk_ids = [t for ids, _, _ in live for t in ids] + other[0]
        port_ids = [p for _, ports, _ in live for p in ports] + other[1]
        ids = (trunk_ids, port_ids)
        before = self.state(*ids)
        # One proven orphan among them, which must be found and cleaned.
        orphan = self.light_trunks(1, tag)[0]
        self.left_bound_by_nova(orphan['port_id'])
        project = orphan['project_id']

        ledger = Ledger('small page limits')
        self.proxy.program([faultproxy.rule('cap', LISTS, 'GET', times=0,
                                            limit=2)])
        # Its server's rows are archived: an admin's show proves it gone; to
        # a member, Nova says "not found" of any other project's server
        # too, and its own list does not show this one.
        for user, cls, args in (
                ('demo', 'undecidable', ('orphans', '--tag', tag, '-f',
                                         'json')),
                ('admin', 'server-deleted', ('orphans', '--tag', tag,
                                             '--project', project, '-f',
                                             'json'))):
            out = self.refused_cli(ledger, user + ' orphans (pages of 2)',
                                   before, ids, *args,
                                   env=self.proxy.environ(user))
            found = {o['trunk_id']: o['class'] for o in json.loads(out)}
            if found != {orphan['id']: cls}:
                ledger.lost.append('%s %s found %s' % (user, args, found))
        self.refused_cli(ledger, 'cleanup --orphans (pages of 2)', before,
                         ids, 'cleanup', '--orphans', '--tag', tag,
                         '--project', project, '--unbind-stale', '--yes',
                         env=self.proxy.environ('admin'), expected_code=0)
        if self.admin.trunks_client.list_trunks(id=orphan['id'])['trunks']:
            ledger.lost.append('the orphan was not cleaned')
        self.proxy.program()
        self.finish(ledger)

        ledger = Ledger('an admin with --project')
        self.refused_cli(ledger, 'admin orphans --project', before, ids,
                         'orphans', '--tag', tag, '--project', project,
                         env=self.admin_env, expected_code=0)
        self.refused_cli(ledger, 'admin cleanup --orphans --project', before,
                         ids, 'cleanup', '--orphans', '--tag', tag,
                         '--project', project, '--unbind-stale', '--yes',
                         env=self.admin_env, expected_code=0)
        self.refused_cli(ledger, 'admin cleanup --trunk (no project)',
                         before, ids, 'cleanup', '--trunk', live[0][0][0],
                         '--yes', env=self.admin_env, expected_code=1,
                         says='refused')
        self.finish(ledger)

        ledger = Ledger('a parent used by a server of another project')
        self.refused_cli(ledger, 'admin cleanup --trunk', before, ids,
                         'cleanup', '--trunk', other[0][0], '--yes',
                         '--unbind-stale', '--all-projects',
                         env=self.admin_env, expected_code=1,
                         says='server %s still exists' % other[2])
        self.finish(ledger)

        ledger = Ledger('a shelved-offloaded server')
        _, _, server = live[0]
        self.demo.servers_client.shelve_server(server)
        self.wait_for(lambda: self.demo.servers_client.show_server(server)[
            'server']['status'] == 'SHELVED_OFFLOADED',
            'server %s shelved and offloaded' % server, timeout=120)
        shelved = self.state(*ids)
        for args in (('orphans', '--tag', tag),
                     ('cleanup', '--orphans', '--tag', tag, '--yes'),
                     ('cleanup', '--server', server, '--yes')):
            self.refused_cli(ledger, ' '.join(args), shelved, ids, *args,
                             expected_code=None)
        self.finish(ledger)

    def other_projects_server_on_a_demo_trunk(self, tag):
        """A demo trunk on a port and server of the service project.

        An admin can build it so.

        :returns: (trunk IDs, port IDs, server ID)
        """
        other = base.Clients(dict(self.admin_env, OS_USERNAME='nova',
                                  OS_PROJECT_NAME='service'))
        net = self.network(other)
        parent = self.port(net['id'], other)
        sub = self.port(self.network(subnet=False)['id'])
        project = sub['project_id']
        trunk = self.admin.trunks_client.create_trunk(
            name=data_utils.rand_name('other'), port_id=parent['id'],
            project_id=project, sub_ports=[{
                'port_id': sub['id'], 'segmentation_type': 'vlan',
                'segmentation_id': 100}])['trunk']
        self.addCleanup(tc_trunks.delete_trunk, self.admin.trunks_client,
                        trunk['id'])
        self.admin.tags_client.create_tag('trunks', trunk['id'], tag)
        server = self.boot(parent['id'], other)
        self.addCleanup(test_utils.call_and_ignore_notfound_exc,
                        other.servers_client.delete_server, server)
        return [trunk['id']], [parent['id'], sub['id']], server
