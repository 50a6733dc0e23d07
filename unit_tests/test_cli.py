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

import io
import json
import os
import tempfile
import uuid

import fixtures
from tempest.lib import exceptions as lib_exc

from trunk_cleanup_tempest import cleanup
from trunk_cleanup_tempest.cmd import trunk_cleanup as cli
from unit_tests import base
from unit_tests import fake_cloud


class TTY(io.StringIO):
    def isatty(self):
        return True


class CommandTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.state_dir = self.useFixture(fixtures.TempDir()).path
        self.useFixture(fixtures.MonkeyPatch(
            'trunk_cleanup_tempest.cmd.trunk_cleanup.DEFAULT_STATE_DIR',
            self.state_dir))
        self.fp = self.stand_up()

    def run_cli(self, *argv, factory=None, stdin='', err=None):
        out, err = io.StringIO(), err or io.StringIO()
        self.useFixture(fixtures.MonkeyPatch('sys.stderr', err))
        try:
            code = cli.main(list(argv), clients_factory=factory or (
                lambda: self.clients), out=out, err=err,
                stdin=io.StringIO(stdin))
        except SystemExit as exc:
            code = exc.code
        return code, out.getvalue(), err.getvalue()


class TestRecordInspectCleanup(CommandTestCase):

    def test_record_then_clean_from_the_saved_footprint(self):
        code, out, _ = self.run_cli('record', '--server', self.server)
        self.assertEqual(0, code)
        self.assertEqual(json.loads(self.fp.to_json()), json.loads(out))
        self.cloud.delete_server(self.server)
        code, report, _ = self.run_cli('cleanup', '--footprint', '-',
                                       '--yes', '-f', 'json', stdin=out)
        self.assertEqual(0, code, report)
        self.assertTrue(json.loads(report)['clean'])
        self.assertEqual({}, self.cloud.trunks)

    def test_footprint_file(self):
        with tempfile.NamedTemporaryFile('w', suffix='.json',
                                         delete=False) as f:
            f.write(self.fp.to_json())
        self.addCleanup(os.unlink, f.name)
        self.cloud.delete_server(self.server)
        code, out, _ = self.run_cli('inspect', '--footprint', f.name)
        self.assertEqual(1, code)
        self.assertIn('4 resource(s) of the footprint left', out)

    def test_inspect_exit_codes_and_formats(self):
        code, out, _ = self.run_cli('inspect', '--trunk', self.trunk)
        self.assertEqual(1, code)
        self.assertIn(self.parent, out)
        self.assertIn('present', out)
        code, out, _ = self.run_cli('inspect', '--port', self.parent,
                                    '-f', 'json')
        self.assertEqual(1, code)
        self.assertEqual(self.trunk, json.loads(out)['trunks'][0]['id'])

    def test_inspect_a_deleted_server_still_named_by_its_port(self):
        self.cloud.delete_server(self.server, unbind=False)
        code, out, _ = self.run_cli('inspect', '--server', self.server)
        self.assertEqual(1, code)
        self.assertIn(self.trunk, out)

    def test_cleanup_is_a_dry_run_without_yes(self):
        self.cloud.delete_server(self.server)
        code, out, _ = self.run_cli('cleanup', '--trunk', self.trunk)
        self.assertEqual(1, code)
        self.assertEqual([], self.cloud.writes())
        self.assertIn('nothing was written', out)

    def test_cleanup_with_yes_then_inspect_is_clean(self):
        self.cloud.delete_server(self.server)
        # Nothing links the trunk to the server any more: without the
        # footprint nothing proves it was used.
        code, out, _ = self.run_cli('cleanup', '--trunk', self.trunk,
                                    '--yes', '--interval', '0.01')
        self.assertEqual(1, code, out)
        self.assertIn('parent-unbound', out)
        self.assertEqual([], self.cloud.writes())
        code, out, _ = self.run_cli('cleanup', '--footprint', '-', '--yes',
                                    '--interval', '0.01',
                                    '--delete-parent-port',
                                    stdin=self.fp.to_json())
        self.assertEqual(0, code, out)
        self.assertRegex(out, r'\| evidence +\| server-deleted +\| trunk')
        self.assertIn('clean:', out)
        code, out, _ = self.run_cli('inspect', '--footprint', '-',
                                    stdin=self.fp.to_json())
        self.assertEqual(0, code)
        self.assertIn('clean: nothing of the footprint is left', out)

    def test_cleanup_of_live_server_exits_1_and_says_why(self):
        code, out, _ = self.run_cli('cleanup', '--server', self.server,
                                    '--yes')
        self.assertEqual(1, code)
        self.assertIn('still exists', out)
        self.assertEqual([], self.cloud.writes())


class TestOrphans(CommandTestCase):

    def setUp(self):
        super().setUp()
        self.orphaned = []
        # Nova left the parents bound: their servers are proven gone.
        for _ in range(3):
            server, trunk, _, _ = self.cloud.stand_up()
            self.cloud.delete_server(server, unbind=False)
            self.orphaned.append(trunk)
        # Unbound: nothing proves a server ever used it.
        server, self.unbound, _, _ = self.cloud.stand_up()
        self.cloud.delete_server(server)

    def test_lists_orphans_only(self):
        code, out, _ = self.run_cli('orphans', '-f', 'json')
        self.assertEqual(1, code)
        found = {o['trunk_id']: o['class'] for o in json.loads(out)}
        self.assertEqual(dict.fromkeys(self.orphaned, 'server-deleted',
                                       ) | {self.unbound: 'parent-unbound'},
                         found)
        code, out, _ = self.run_cli('orphans')
        self.assertIn('4 orphaned trunk(s), 3 proven (server deleted)', out)
        self.assertNotIn(self.trunk, out)
        code, out, _ = self.run_cli('orphans', '--older-than', '1000d')
        self.assertEqual((0, '0 orphaned trunk(s), 0 proven (server '
                             'deleted)\n'), (code, out))

    def test_cleanup_orphans_with_progress_on_a_terminal(self):
        # --unbind-stale is an admin's: Neutron shows a binding to one.
        self.cloud.admin = True
        code, out, err = self.run_cli('cleanup', '--orphans', '--yes',
                                      '--unbind-stale', '--workers', '2',
                                      '--interval', '0.01', err=TTY())
        # The unproven one is refused, and says why.
        self.assertEqual(1, code, out)
        self.assertIn('3 of 4 footprint(s) clean, 0 with a failure', out)
        self.assertRegex(out, r'\| refused +\| refuse +\| trunk +\| %s '
                         r'\| not proven: no deleted server is known to '
                         r'have used it' % self.unbound)
        self.assertIn('] 4/4 trunks', err)
        self.assertEqual(sorted([self.trunk, self.unbound]),
                         sorted(self.cloud.trunks))
        code, out, _ = self.run_cli('cleanup', '--orphans', '--yes',
                                    '--include-unbound', '--older-than',
                                    '1d', '--interval', '0.01')
        self.assertEqual(0, code, out)
        self.assertIn('cleaned as asked: unchanged for at least 1 day', out)
        self.assertEqual([self.trunk], list(self.cloud.trunks))
        code, out, _ = self.run_cli('cleanup', '--orphans', '--yes')
        self.assertEqual((0, 'nothing to do: no orphaned trunk\n'),
                         (code, out))
        code, out, _ = self.run_cli('cleanup', '--orphans', '--yes', '-f',
                                    'json')
        self.assertEqual((0, []), (code, json.loads(out)))

    def test_an_unfinished_run_is_found_again_in_the_journal(self):
        # The trunks go, their ports' deletes fail: nothing in Neutron
        # links those ports to a trunk any more.
        self.cloud.fail('DELETE', r'/v2\.0/ports/', 400, 'BadRequest',
                        times=-1)
        self.cloud.admin = True
        code, out, _ = self.run_cli('cleanup', '--orphans', '--yes',
                                    '--unbind-stale', '--interval', '0.01')
        self.assertEqual(1, code, out)
        self.assertEqual(sorted([self.trunk, self.unbound]),
                         sorted(self.cloud.trunks))
        journal = cleanup.Journal(os.path.join(self.state_dir, cli.JOURNAL))
        self.assertEqual(3, len(journal.pending()))
        code, out, _ = self.run_cli('orphans', '-f', 'json')
        found = {tuple(o['subport_ids']): o for o in json.loads(out)}
        self.assertEqual(4, len(found))
        journaled = [o for o in found.values() if 'journal' in o['reason']]
        self.assertEqual(3, len(journaled))
        self.assertEqual({'server-deleted'}, {o['class'] for o in journaled})
        self.cloud.faults.clear()
        code, out, _ = self.run_cli('cleanup', '--orphans', '--yes',
                                    '--delete-parent-port',
                                    '--interval', '0.01')
        for o in journaled:
            for pid in o['subport_ids'] + [o['parent_port_id']]:
                self.assertNotIn(pid, self.cloud.ports)
        self.assertEqual([], journal.pending())

    def test_cleanup_orphans_dry_run(self):
        code, out, err = self.run_cli('cleanup', '--orphans', '-f', 'json')
        self.assertEqual(1, code)
        self.assertEqual([], self.cloud.writes())
        self.assertEqual(4, len(json.loads(out)))
        self.assertEqual('', err)


class TestBadInput(CommandTestCase):

    def assertBadInput(self, argv, text, **kwargs):
        code, out, err = self.run_cli(*argv, **kwargs)
        self.assertEqual(2, code, (argv, out, err))
        self.assertIn(text, err)
        self.assertEqual(1, len(err.splitlines()), err)
        return err

    def test_each_gives_exit_2_and_one_line(self):
        missing = str(uuid.uuid4())
        for argv, text in (
                (('inspect', '--trunk', 'nope'), "not a UUID: 'nope'"),
                (('cleanup', '--server', '12'), "not a UUID: '12'"),
                (('inspect', '--trunk', missing),
                 'trunk %s not found' % missing),
                (('inspect', '--server', missing),
                 'server %s not found, and its project is not proven'
                 % missing),
                (('inspect', '--footprint', '/no/such/file'),
                 'No such file'),
                (('cleanup', '--footprint', '-'), 'not JSON'),
                (('orphans', '--older-than', 'soon'), 'not an age'),
                (('cleanup',), 'one of the arguments'),
                (('cleanup', '--orphans', '--timeout', '0'),
                 'must be positive'),
                (('cleanup', '--orphans', '--interval', 'soon'),
                 'not a number'),
                (('bogus',), 'invalid choice'),
                (('cleanup', '--orphans', '--include-unbound', '--yes'),
                 '--include-unbound needs --older-than')):
            self.assertBadInput(argv, text)
        self.assertEqual([], self.cloud.writes())

    def test_no_project_in_the_token_refuses_to_guess(self):
        # A system- or domain-scoped token: no own project to keep to.
        for client in ('trunks_client', 'ports_client', 'servers_client'):
            getattr(self.clients, client).auth_provider.credentials \
                .project_id = None
        for argv in (('orphans',), ('cleanup', '--orphans', '--yes'),
                     ('cleanup', '--trunk', self.trunk, '--yes')):
            self.assertBadInput(argv, 'the credentials are not scoped to a '
                                      'project')
        self.assertEqual([], self.cloud.writes())
        self.cloud.admin = True
        code, out, _ = self.run_cli('orphans', '--all-projects')
        self.assertEqual(0, code, out)

    def test_a_gone_server_of_another_project_than_named_is_refused(self):
        # --project is checked against Nova's word, not used in its place.
        self.cloud.admin = True
        self.cloud.delete_server(self.server, unbind=False)
        self.assertBadInput(
            ('cleanup', '--server', self.server, '--project', 'theirs',
             '--yes'),
            "server %s not found, and it was not of project theirs: Nova's "
            "servers list shows it deleted in project %s"
            % (self.server, fake_cloud.PROJECT))
        self.assertEqual([], self.cloud.writes())
        code, out, err = self.run_cli(
            'cleanup', '--server', self.server, '--project',
            fake_cloud.PROJECT, '--unbind-stale', '--yes')
        self.assertEqual(0, code, out + err)
        self.assertNotIn(self.trunk, self.cloud.trunks)

    def test_missing_trunk_extension(self):
        self.cloud.extensions.clear()
        self.assertBadInput(('orphans',), 'the Neutron "trunk" extension '
                                          'is not enabled')

    def test_missing_credentials_never_print_the_password(self):
        def factory():
            from trunk_cleanup_tempest import clients
            return clients.from_environ({'OS_PASSWORD': 's3cr3t-pw'})
        err = self.assertBadInput(('orphans',), 'auth_url',
                                  factory=factory)
        self.assertNotIn('s3cr3t-pw', err)

    def test_cloud_errors(self):
        def unauthorized():
            raise lib_exc.Unauthorized()
        self.assertBadInput(('orphans',), 'refused the credentials',
                            factory=unauthorized)
        self.cloud.fail('GET', r'/v2\.0/trunks', 403, 'Forbidden',
                        'no access')
        self.assertBadInput(('inspect', '--trunk', self.trunk),
                            'Forbidden: no access')


class TestConnections(CommandTestCase):

    def test_cleanup_pools_a_connection_for_each_calling_thread(self):
        sizes = {}
        self.patch(cli.clients_mod, 'from_args',
                   lambda args, **kwargs: sizes.update(kwargs))
        args = cli.build_parser().parse_args(['cleanup', '--orphans',
                                              '--workers', '3'])
        cli._clients(args, None)
        # Three workers and three port deletes; from_args adds the
        # shared read's.
        self.assertEqual(6, sizes['workers'])


class TestWatchArguments(CommandTestCase):

    def test_watch_defaults(self):
        args = cli.build_parser().parse_args(['watch', '--config-file',
                                              'nova.conf'])
        self.assertEqual(['nova.conf'], args.config_file)
        self.assertEqual(300, args.sweep_interval)
        self.assertEqual(3600, args.sweep_older_than.total_seconds())

    def test_a_bad_config_file_is_named_never_its_secret(self):
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'watch.conf')
        with open(path, 'w') as f:
            f.write('[trunk_cleanup_watch]\nauth_type = password\n'
                    'password TOPSECRET\n')
        code, out, err = self.run_cli('watch', '--config-file', path)
        self.assertEqual((2, ''), (code, out))
        self.assertEqual('trunk-cleanup: error: config: cannot parse '
                         '%s:3\n' % path, err)

    def served_with(self, *extra):
        """What the command hands ``watch``'s loop, from its arguments."""
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'nova.conf')
        with open(path, 'w') as f:
            f.write('[DEFAULT]\n')
        serve = self.useFixture(fixtures.MockPatch(
            'trunk_cleanup_tempest.watch.serving.serve')).mock
        code, out, err = self.run_cli('watch', '--config-file', path,
                                      '--state-dir', os.path.dirname(path),
                                      *extra)
        self.assertEqual((0, 'trunk-cleanup watch: stopped\n', ''),
                         (code, out, err))
        return serve.call_args.kwargs

    def test_watch_sweeps_no_orphans_unless_asked(self):
        served = self.served_with()
        self.assertIs(False, served['sweep_orphans'])
        self.assertIsNone(served['sweep_older_than'])

    def test_watch_sweeps_orphans_older_than_asked(self):
        served = self.served_with('--sweep-orphans', '--sweep-older-than',
                                  '2h')
        self.assertIs(True, served['sweep_orphans'])
        self.assertEqual(7200, served['sweep_older_than'].total_seconds())


class TestHelp(CommandTestCase):

    def test_help_lists_every_command(self):
        out = io.StringIO()
        self.useFixture(fixtures.MonkeyPatch('sys.stdout', out))
        self.assertRaises(SystemExit, cli.main, ['--help'])
        for command in ('record', 'inspect', 'orphans', 'cleanup', 'watch'):
            self.assertIn(command, out.getvalue())
