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
import sys
import tempfile

from tempest.lib import exceptions as lib_exc

from trunk_cleanup_tempest.cmd import trunk_cleanup as cli
from unit_tests import base


class TestCommand(base.TestCase):

    def setUp(self):
        super().setUp()
        self.fp = self.stand_up()

    def run_cli(self, *argv, factory=None, stdin=''):
        out, err = io.StringIO(), io.StringIO()
        code = cli.main(list(argv), clients_factory=factory or (
            lambda: self.clients), out=out, err=err,
            stdin=io.StringIO(stdin))
        return code, out.getvalue(), err.getvalue()

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

    def test_cleanup_is_a_dry_run_without_yes(self):
        self.cloud.delete_server(self.server)
        code, out, _ = self.run_cli('cleanup', '--trunk', self.trunk)
        self.assertEqual(1, code)
        self.assertEqual([], self.cloud.writes())
        self.assertIn('nothing was written', out)

    def test_cleanup_with_yes_then_inspect_is_clean(self):
        self.cloud.delete_server(self.server)
        code, out, _ = self.run_cli('cleanup', '--trunk', self.trunk,
                                    '--yes', '--interval', '0.01')
        self.assertEqual(0, code, out)
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

    def test_bad_input_exits_2_with_one_line(self):
        for argv, text in (
                (('inspect', '--trunk', 'nope'), 'trunk nope not found'),
                (('inspect', '--server', 'nope'), 'server nope not found'),
                (('inspect', '--footprint', '/no/such/file'),
                 'No such file'),
                (('cleanup', '--footprint', '-'), 'not JSON')):
            code, out, err = self.run_cli(*argv)
            self.assertEqual(2, code, argv)
            self.assertIn(text, err)
            self.assertEqual(1, len(err.splitlines()), err)
        self.assertEqual([], self.cloud.writes())

    def test_bad_arguments_exit_2(self):
        for argv in (('cleanup',), ('cleanup', '--trunk', 'x',
                                    '--timeout', '0'),
                     ('cleanup', '--trunk', 'x', '--interval', 'soon'),
                     ('bogus',)):
            self.patch(sys, 'stderr', io.StringIO())
            exc = self.assertRaises(SystemExit, cli.main, list(argv),
                                    clients_factory=lambda: self.clients)
            self.assertEqual(2, exc.code)

    def test_missing_credentials_never_print_the_password(self):
        def factory():
            from trunk_cleanup_tempest.services import clients
            return clients.from_environ({'OS_PASSWORD': 's3cr3t-pw'})
        code, out, err = self.run_cli('inspect', '--trunk', 'x',
                                      factory=factory)
        self.assertEqual(2, code)
        self.assertIn('OS_AUTH_URL', err)
        self.assertNotIn('s3cr3t-pw', out + err)

    def test_cloud_errors_exit_2(self):
        def unauthorized():
            raise lib_exc.Unauthorized()
        code, _, err = self.run_cli('inspect', '--trunk', 'x',
                                    factory=unauthorized)
        self.assertEqual(2, code)
        self.assertIn('refused the credentials', err)
        self.cloud.fail('GET', r'/v2\.0/trunks', 403, 'Forbidden',
                        'no access')
        code, _, err = self.run_cli('inspect', '--trunk', self.trunk)
        self.assertEqual(2, code)
        self.assertIn('Forbidden: no access', err)
