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

"""The cleanup under faults, on the local cloud, through the fault proxy.

Each kind of fault is run many times (``$TRUNK_CLEANUP_FAULT_RUNS``, 10 by
default; a fifth of that for the kinds that boot servers or restart the
bus). A run is judged on three things:

* *lost*: the report of the faulty run does not list exactly what is left
  of the footprint, or anything outside the footprint changed;
* *leaked*: something of the footprint is still there after a second,
  fault-free run;
* bad input must change nothing and end with a clear error.

Every kind adds a line to ``faults.jsonl`` in the cloud's state folder;
``python -m functional_tests.fault_summary`` prints the total.
"""

import json
import os
import re
import threading
import uuid

from tempest.lib.common.utils import data_utils

from functional_tests import base
from trunk_cleanup_localcloud import faultproxy
from trunk_cleanup_tempest import cleanup

RUNS = int(os.environ.get('TRUNK_CLEANUP_FAULT_RUNS', '10'))
HEAVY_RUNS = max(1, RUNS // 5)
RESULTS = 'faults.jsonl'
# The proxied clients give up on an answer after this many seconds.
CLIENT_TIMEOUT = 2
TRUNK = r'/v2\.0/trunks/[0-9a-f-]+$'
PORT = r'/v2\.0/ports/[0-9a-f-]+$'


class Ledger:
    """What one kind of fault did over its runs."""

    def __init__(self, kind):
        self.kind = kind
        self.runs = 0
        self.lost = []
        self.leaked = []


class FaultSuite(base.FunctionalTestCase):

    def setUp(self):
        super().setUp()
        self.proxy = self.fault_proxy()
        self.faulty = base.Clients(self.proxy.environ(),
                                   timeout=CLIENT_TIMEOUT)
        # Through the proxy, waiting as long as the proxy holds a request.
        self.patient = base.Clients(self.proxy.environ())
        # Something that is not the footprint's, to show it is spared.
        self.trunk(subports=1)

    # -- bookkeeping ---------------------------------------------------

    def finish(self, ledger):
        with open(os.path.join(self.cloud.state_dir, RESULTS), 'a') as f:
            f.write(json.dumps({'kind': ledger.kind, 'runs': ledger.runs,
                                'lost': len(ledger.lost),
                                'leaked': len(ledger.leaked)}) + '\n')
        self.assertEqual([], ledger.lost)
        self.assertEqual([], ledger.leaked)
        self.assertGreater(ledger.runs, 0)

    def outside(self, footprint):
        """The project's resources that are not the footprint's."""
        ours = set(footprint.port_ids) | set(footprint.trunk_ids)
        return tuple({k: v for k, v in part.items() if k not in ours}
                     for part in self.snapshot())

    def present(self, footprint):
        return {r.id for r in cleanup.inspect(self.demo, footprint).present}

    def second_run(self, ledger, footprint, run):
        """A fault-free run must finish the job."""
        report = cleanup.cleanup(self.demo, footprint, timeout=30,
                                 interval=0.2, delete_parent=True)
        left = self.present(footprint)
        if left:
            ledger.leaked.append('run %d: %s still there: %s'
                                 % (run, sorted(left), report))

    def judge(self, ledger, footprint, outside, reports, run):
        """One run: honest reports, a finishing second run, no stray harm.

        :param reports: the reports of the faulty run (two for two
            cleaners at once), or None where the run made none.
        """
        left = self.present(footprint)
        listed = {r['id'] for rep in reports or () for r in rep.left +
                  rep.kept}
        if reports is not None and (not left <= listed or (
                len(reports) == 1 and left != listed)):
            ledger.lost.append('run %d: the cloud has %s, the report lists '
                               '%s' % (run, sorted(left), sorted(listed)))
        for rep in reports or ():
            for entry in rep.left:
                if not entry.get('reason'):
                    ledger.lost.append('run %d: %s left with no reason'
                                       % (run, entry['id']))
        if left:
            self.second_run(ledger, footprint, run)
        if self.outside(footprint) != outside:
            ledger.lost.append('run %d: something outside the footprint '
                               'changed' % run)
        ledger.runs += 1

    # -- making orphans ------------------------------------------------

    # One server of the demo project, booted and deleted once for the
    # suite: every quick orphan's footprint names it.
    deleted_server = None

    def quick_orphan(self, subports=2):
        """A trunk whose parent is unbound, as a deleted server leaves it.

        No server is booted for it: the library sees the same leftovers,
        in a fraction of the time. The footprint names a server of its
        project that Nova lists deleted, which proves it gone (to the
        project's member, one Nova does not list proves nothing).
        """
        if FaultSuite.deleted_server is None:
            port = self.port(self.network()['id'])
            server = self.boot(port['id'])
            self.delete_server(self.demo, server)
            FaultSuite.deleted_server = server
        trunk, _, _ = self.trunk(subports)
        recorded = cleanup.record_trunk(self.demo, trunk['id'], 'user')
        return cleanup.Footprint(project_id=recorded.project_id,
                                 trunks=recorded.trunks,
                                 server_id=FaultSuite.deleted_server)

    def faulty_runs(self, kind, rules_for_run, runs=RUNS):
        """Clean a fresh orphan per run through the programmed proxy."""
        ledger = Ledger(kind)
        for run in range(runs):
            footprint = self.quick_orphan()
            outside = self.outside(footprint)
            self.proxy.program(rules_for_run(run, footprint))
            report = cleanup.cleanup(self.faulty, footprint, timeout=15,
                                     interval=0.2, delete_parent=True)
            self.proxy.program()
            self.judge(ledger, footprint, outside, [report], run)
        self.finish(ledger)
        return ledger

    # -- faults on the wire --------------------------------------------

    def test_server_errors_on_the_nth_write(self):
        def rules(run, _):
            status = (500, 503)[run % 2]
            return [faultproxy.rule(
                'status', writes=True, nth=1 + run % 5, times=1 + run % 3,
                status=status, type='HTTPServerError')]
        self.faulty_runs('5xx on the nth write', rules)
        self.assertTrue(any(e['status'] in (500, 503)
                            for e in self.proxy.events()))

    def test_conflict_while_subports_detach(self):
        def rules(run, footprint):
            trunk_id = footprint.trunk_ids[0]
            return [
                faultproxy.rule('status', TRUNK, 'DELETE', times=2,
                                status=409, type='TrunkInUse',
                                message='Trunk %s is currently in use.'
                                % trunk_id),
                faultproxy.rule('status', PORT, 'DELETE', times=1,
                                status=409, type='PortInUseAsSubPort',
                                message='Port %s is currently a subport for '
                                'trunk %s.' % (footprint.port_ids[1],
                                               trunk_id))]
        self.faulty_runs('409 while subports detach', rules)

    def test_answer_slower_than_the_client_timeout(self):
        self.faulty_runs('answer slower than the client', lambda run, _: [
            faultproxy.rule('delay', writes=True, nth=1 + run % 5,
                            seconds=CLIENT_TIMEOUT + 1)])

    def test_connection_dropped_after_the_write_applied(self):
        self.faulty_runs('connection dropped after the write', lambda run, _: [
            faultproxy.rule('drop_after', writes=True, nth=1 + run % 5)])

    def test_connection_dropped_before_the_write(self):
        self.faulty_runs('connection dropped before the write',
                         lambda run, _: [faultproxy.rule(
                             'drop', writes=True, nth=1 + run % 5,
                             times=1 + run % 2)])

    def test_two_cleaners_on_one_footprint(self):
        ledger = Ledger('two cleaners at once')
        for run in range(RUNS):
            footprint = self.quick_orphan(subports=3)
            outside = self.outside(footprint)
            reports = []

            def clean():
                reports.append(cleanup.cleanup(self.demo, footprint,
                                               timeout=15, interval=0.2,
                                               delete_parent=True))
            cleaners = [threading.Thread(target=clean) for _ in range(2)]
            for cleaner in cleaners:
                cleaner.start()
            for cleaner in cleaners:
                cleaner.join(60)
            self.judge(ledger, footprint, outside, reports, run)
        self.finish(ledger)

    # -- the service and the cloud misbehaving -------------------------

    def watch_cleaned(self, footprint, timeout=60):
        """Poll until watch has removed the trunk and subports."""
        parent = footprint.trunks[0].parent_port_id
        self.wait_for(lambda: self.present(footprint) <= {parent},
                      'watch cleaning %s' % footprint.trunk_ids, timeout)

    def test_watch_killed_mid_cleanup_and_restarted(self):
        ledger = Ledger('watch killed mid-cleanup')
        for run in range(HEAVY_RUNS):
            footprint = self.orphan_in_the_making()
            outside = self.outside(footprint)
            self.proxy.events()
            # The trunk is deleted (its subports detached with it), then a
            # subport's delete hangs in the proxy while watch is killed:
            # nothing in Neutron links the subports to anything any more.
            self.proxy.program([faultproxy.rule('delay', PORT, 'DELETE',
                                                seconds=3)])
            self.cloud.start_watch(environ=self.proxy.environ('admin'))
            self.demo.servers_client.delete_server(footprint.server_id)
            self.wait_for_held('watch deleting a subport', PORT)
            self.cloud.stop_watch(timeout=0)
            self.proxy.program()
            # Restarted, it resumes from its journal what it was doing.
            self.cloud.start_watch()
            self.addCleanup(self.cloud.stop_watch)
            try:
                self.watch_cleaned(footprint)
            except self.failureException as exc:
                ledger.leaked.append('run %d: %s' % (run, exc))
            self.cloud.stop_watch()
            self.judge_service(ledger, footprint, outside, run)
        self.finish(ledger)

    def test_message_bus_restarted(self):
        ledger = Ledger('message bus restarted')
        self.cloud.start_watch()
        self.addCleanup(self.cloud.stop_watch)
        log = self.cloud.layout().processes.log('watch')
        for run in range(HEAVY_RUNS):
            with open(log) as f:
                seen = len(f.read())
            self.cloud.restart_bus()

            def reconnected():
                with open(log) as f:
                    return 'Reconnected to AMQP server' in f.read()[seen:]
            self.wait_for(reconnected, 'watch back on the bus')
            # Booting needs every service back on the bus: then Nova does
            # not lose the delete, and only watch is on trial. The OVS
            # agent's first call after it reconnects may be lost, and it
            # wires the trunk once that call times out (60 s) and it
            # resyncs.
            footprint = self.orphan_in_the_making(wire_timeout=150)
            outside = self.outside(footprint)
            self.demo.servers_client.delete_server(footprint.server_id)
            try:
                self.watch_cleaned(footprint, timeout=90)
            except self.failureException as exc:
                ledger.leaked.append('run %d: %s' % (run, exc))
            self.judge_service(ledger, footprint, outside, run)
        self.finish(ledger)

    def wait_for_held(self, what, path):
        """Until the proxy holds a request to ``path`` (a delay rule)."""
        self.wait_for(lambda: any(
            e['fault'] == 'held' and re.search(path, e['path'])
            for e in self.proxy.events(clear=False)), what)

    def orphan_in_the_making(self, wire_timeout=60):
        """A live server on a trunk, recorded; the test deletes it."""
        _, parent, _ = self.trunk()
        server = self.boot(parent['id'], wire_timeout=wire_timeout)
        return cleanup.record_server(self.demo, server, 'user')

    def judge_service(self, ledger, footprint, outside, run):
        """What watch left: at most the user's parent port, unbound."""
        parent = footprint.trunks[0].parent_port_id
        self.wait_for(lambda: self.server_gone(footprint.server_id),
                      'server %s gone' % footprint.server_id)
        left = self.present(footprint) - {parent}
        if left:
            ledger.leaked.append('run %d: %s' % (run, sorted(left)))
            self.second_run(ledger, footprint, run)
        if self.outside(footprint) != outside:
            ledger.lost.append('run %d: something outside the footprint '
                               'changed' % run)
        ledger.runs += 1

    def test_server_booted_on_the_parent_mid_cleanup(self):
        ledger = Ledger('server booted on the parent mid-cleanup')
        for run in range(HEAVY_RUNS):
            footprint = self.quick_orphan()
            parent = footprint.trunks[0].parent_port_id
            outside = self.outside(footprint)
            # The trunk delete waits in the proxy while a server boots on
            # the parent port: long enough for Nova to bind it even on a
            # busy machine (a port deleted before Nova claims it is free
            # as far as anyone can tell).
            self.proxy.program([faultproxy.rule('delay', TRUNK, 'DELETE',
                                                seconds=30)])
            reports = []
            self.proxy.events()
            cleaner = threading.Thread(target=lambda: reports.append(
                cleanup.cleanup(self.patient, footprint, timeout=10,
                                interval=0.5, delete_parent=True)))
            cleaner.start()
            self.wait_for_held('the cleanup deleting the trunk', TRUNK)
            server = self.boot(parent)
            cleaner.join(120)
            self.proxy.program()
            port = self.demo.ports_client.show_port(parent)['port']
            if port['device_id'] != server:
                ledger.lost.append('run %d: the new server lost its port: '
                                   '%s' % (run, port))
            if parent not in {r['id'] for r in reports[0].left +
                              reports[0].kept}:
                ledger.lost.append('run %d: the report does not say the '
                                   'parent is left: %s' % (run, reports[0]))
            # Once that server is gone too, a second run finishes the job.
            self.delete_server(self.demo, server)
            self.wait_for(lambda: not self.demo.ports_client.show_port(
                parent)['port']['device_id'], 'port %s unbound' % parent)
            self.judge(ledger, footprint, outside, None, run)
        self.finish(ledger)

    # -- bad input -----------------------------------------------------

    def refused(self, ledger, run, expected, *args, env=None):
        """``trunk-cleanup ARGS`` fails on one line and changes nothing."""
        before = self.snapshot()
        code, out, err = self.cli(*args, env=env)
        ledger.runs += 1
        if (code, len(err.splitlines())) != (2, 1) or expected not in err:
            ledger.lost.append('run %d: %s gave %d: %s%s'
                               % (run, args, code, out, err))
        if self.snapshot() != before:
            ledger.lost.append('run %d: %s changed the cloud' % (run, args))

    def test_malformed_ids(self):
        ledger = Ledger('malformed IDs')
        bad = ['x', '', '12345', str(uuid.uuid4()) + '0', "' OR 1=1 --",
               '\u00fc' * 36, '0' * 10000, '../../v2.0/ports',
               str(uuid.uuid4()).replace('-', '_'), 'None']
        options = ('--server', '--trunk', '--port')
        for run in range(RUNS):
            self.refused(ledger, run, 'not a UUID', 'cleanup', '--yes',
                         options[run % 3], bad[run % len(bad)])
        footprint = self.create_tempfiles([('bad', json.dumps({
            'project_id': 'p', 'trunks': [{'trunk_id': 5}]}))], '.json')[0]
        self.refused(ledger, RUNS, 'not a footprint', 'cleanup', '--yes',
                     '--footprint', footprint)
        self.finish(ledger)

    def test_empty_and_huge_subport_lists(self):
        ledger = Ledger('empty and huge subport lists')
        for run in range(RUNS):
            if run % 2:
                footprint = self.quick_orphan(subports=0)
            else:
                footprint = self.quick_orphan(subports=2)
                record = footprint.trunks[0]
                bogus = tuple(cleanup.footprint.Subport(
                    str(uuid.uuid4()), 'vlan', i % 4094 + 1)
                    for i in range(5000))
                footprint = cleanup.Footprint(
                    project_id=footprint.project_id, trunks=(
                        cleanup.footprint.TrunkRecord(
                            record.trunk_id, record.parent_port_id,
                            record.project_id, record.subports + bogus),),
                    server_id=footprint.server_id)
            outside = self.outside(footprint)
            report = cleanup.cleanup(self.faulty, footprint, timeout=15,
                                     interval=0.2, delete_parent=True)
            self.judge(ledger, footprint, outside, [report], run)
            if not report.clean:
                ledger.leaked.append('run %d: %s' % (run, report))
        self.finish(ledger)

    def test_trunk_id_that_is_a_port_id(self):
        ledger = Ledger('a port ID given for a trunk')
        for run in range(RUNS):
            trunk, parent, subs = self.trunk(subports=1)
            if run % 2:
                self.refused(ledger, run, 'trunk %s not found' % parent['id'],
                             'cleanup', '--yes', '--trunk', parent['id'])
            else:
                self.refused(ledger, run, 'parent port of no trunk',
                             'cleanup', '--yes', '--port', subs[0]['id'])
        self.finish(ledger)

    def test_unicode_names(self):
        ledger = Ledger('unicode names')
        names = ['tr\u00fcnk-\u00e9t\u00e9', '\u30c8\u30e9\u30f3\u30af',
                 '\u0442\u0440\u0430\u043d\u043a',
                 '\u03b4\u03bf\u03ba\u03b9\u03bc\u03ae',
                 '\u05d8\u05e8\u05d0\u05e0\u05e7']
        for run in range(RUNS):
            tag = data_utils.rand_name('unicode')
            trunk, _, _ = self.trunk(tag=tag)
            name = names[run % len(names)]
            self.demo.trunks_client.update_trunk(trunk['id'], name=name)
            footprint = cleanup.record_trunk(self.demo, trunk['id'])
            outside = self.outside(footprint)
            code, out, err = self.cli('orphans', '--tag', tag, '-f', 'json')
            if code != 1 or json.loads(out)[0]['name'] != name:
                ledger.lost.append('run %d: orphans gave %d: %s%s'
                                   % (run, code, out, err))
            code, out, err = self.cli('cleanup', '--orphans', '--tag', tag,
                                      '--include-unbound', '--older-than',
                                      '0s', '--delete-parent-port', '--yes')
            if code != 0:
                ledger.lost.append('run %d: cleanup gave %d: %s%s'
                                   % (run, code, out, err))
            self.judge(ledger, footprint, outside, None, run)
        self.finish(ledger)

    def test_missing_trunk_extension(self):
        ledger = Ledger('trunk extension missing')
        self.proxy.program([faultproxy.rule(
            'status', r'/v2\.0/extensions/trunk$', times=0, status=404,
            type='ExtensionNotFound', message='Extension trunk not found.')])
        trunk, parent, _ = self.trunk()
        commands = [('orphans',), ('inspect', '--trunk', trunk['id']),
                    ('cleanup', '--yes', '--trunk', trunk['id']),
                    ('cleanup', '--yes', '--orphans'),
                    ('record', '--server', str(uuid.uuid4()))]
        for run in range(RUNS):
            self.refused(ledger, run, '"trunk" extension is not enabled',
                         *commands[run % len(commands)],
                         env=self.proxy.environ())
        self.finish(ledger)
