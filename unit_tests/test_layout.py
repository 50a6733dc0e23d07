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

"""Which room may import which: the layout the README's table draws."""

import ast
import os

import fixtures
from oslotest import base

import trunk_cleanup_localcloud
import trunk_cleanup_tempest

PLUGIN = os.path.dirname(trunk_cleanup_tempest.__file__)
LOCALCLOUD = os.path.dirname(trunk_cleanup_localcloud.__file__)


def imports(folder):
    """{module path relative to folder: set of absolute modules imported}"""
    found = {}
    for root, _, files in os.walk(folder):
        for name in files:
            if not name.endswith('.py'):
                continue
            path = os.path.join(root, name)
            with open(path) as f:
                tree = ast.parse(f.read(), path)
            names = set()
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names.update(a.name for a in node.names)
                elif isinstance(node, ast.ImportFrom):
                    module = node.module or ''
                    if node.level:
                        # Relative: resolved from the importing package.
                        package = os.path.relpath(root, os.path.dirname(
                            folder)).split(os.sep)
                        package = package[:len(package) - node.level + 1]
                        module = '.'.join(package + ([module] if module
                                                     else []))
                    names.update('%s.%s' % (module, a.name)
                                 for a in node.names)
            found[os.path.relpath(path, folder)] = names
    return found


class TestLayout(base.BaseTestCase):

    def offenders(self, folder, forbidden, only=''):
        return sorted('%s imports %s' % (path, name)
                      for path, names in imports(folder).items()
                      if path.startswith(only)
                      for name in names
                      if any(name == f or name.startswith(f + '.')
                             for f in forbidden))

    def test_the_plugin_never_imports_the_local_cloud(self):
        # Gate jobs install the plugin into tempest without the local
        # cloud beside it.
        self.assertEqual([], self.offenders(
            PLUGIN, ['trunk_cleanup_localcloud']))

    def test_the_library_knows_nothing_of_tests_cli_or_watch(self):
        # common/ is the tests' (their waiters and teardown).
        self.assertEqual([], self.offenders(
            PLUGIN, ['trunk_cleanup_tempest.tests',
                     'trunk_cleanup_tempest.common',
                     'trunk_cleanup_tempest.cmd',
                     'trunk_cleanup_tempest.watch',
                     'trunk_cleanup_localcloud', 'tempest.test',
                     'tempest.scenario', 'tempest.config',
                     'tempest.common'], only='cleanup'))

    def test_the_command_and_watch_use_the_library_s_face_alone(self):
        # Its modules may change behind cleanup/__init__.
        for room in ('cmd', 'watch'):
            behind = sorted(
                '%s imports %s' % (path, name)
                for path, names in imports(PLUGIN).items()
                if path.startswith(room) for name in names
                if name.startswith('trunk_cleanup_tempest.cleanup.'))
            self.assertEqual([], behind)

    def test_what_the_tests_share_needs_no_tempest_run(self):
        # The functional tests and their cloud-side cleaner use common/
        # with no tempest.conf: it may use the library and tempest.lib,
        # not the scenario tests, tempest's test classes or its config.
        self.assertEqual([], self.offenders(
            PLUGIN, ['trunk_cleanup_tempest.tests',
                     'trunk_cleanup_tempest.cmd',
                     'trunk_cleanup_tempest.watch',
                     'trunk_cleanup_localcloud', 'tempest.test',
                     'tempest.scenario', 'tempest.config',
                     'tempest.common'], only='common'))
        self.assertIn('trunk_cleanup_tempest.cleanup',
                      imports(PLUGIN)['common/waiters.py'])

    def test_the_services_side_of_the_local_cloud_imports_nothing_of_ours(
            self):
        # These run inside the services' or the proxy's virtualenv, where
        # neither distribution is installed.
        for module in ('launcher.py', 'agent.py', 'compute.py',
                       'faults_addon.py'):
            names = imports(LOCALCLOUD)[module]
            self.assertEqual([], [n for n in names
                                  if n.startswith('trunk_cleanup')], module)

    def test_the_scanner_sees_imports(self):
        # The tests above pass on an empty scan: prove it reads imports.
        self.assertIn('trunk_cleanup_localcloud.cloud',
                      imports(LOCALCLOUD)['cli.py'])
        self.assertNotEqual([], self.offenders(
            LOCALCLOUD, ['trunk_cleanup_tempest']))

    def test_relative_imports_are_resolved(self):
        folder = os.path.join(self.useFixture(fixtures.TempDir()).path,
                              'pkg')
        os.makedirs(os.path.join(folder, 'sub'))
        with open(os.path.join(folder, 'sub', 'mod.py'), 'w') as f:
            f.write('from . import sibling\nfrom ..other import thing\n')
        self.assertEqual({'pkg.sub.sibling', 'pkg.other.thing'},
                         imports(folder)['sub/mod.py'])
