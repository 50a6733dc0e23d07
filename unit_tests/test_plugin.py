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

import os
import tempfile

from oslo_config import cfg
from oslo_config import generator
from oslotest import base

from trunk_cleanup_tempest import config
from trunk_cleanup_tempest import plugin


class TestPlugin(base.BaseTestCase):

    def test_load_tests_hands_tempest_only_the_scenario_package(self):
        test_dir, top = plugin.TrunkCleanupTempestPlugin().load_tests()
        self.assertEqual(os.path.join(top, 'trunk_cleanup_tempest',
                                      'tests'), test_dir)
        self.assertTrue(os.path.isdir(os.path.join(test_dir, 'scenario')))
        self.assertFalse(os.path.exists(os.path.join(test_dir,
                                                     'fake_cloud.py')))

    def test_options_are_registered_and_listed(self):
        conf = cfg.ConfigOpts()
        plugin.TrunkCleanupTempestPlugin().register_opts(conf)
        conf([])
        self.assertEqual('left',
                         conf.trunk_cleanup.expected_after_server_delete)
        self.assertEqual(2, conf.trunk_cleanup.subport_count)
        self.assertEqual(16, conf.trunk_cleanup.many_subport_count)
        self.assertEqual('vlan', conf.trunk_cleanup.segmentation_type)
        listed = dict(plugin.TrunkCleanupTempestPlugin().get_opt_lists())
        self.assertIs(config.TrunkCleanupGroup, listed['trunk_cleanup'])
        self.assertEqual([(config.trunk_cleanup_group,
                           config.TrunkCleanupGroup)], config.list_opts())

    def test_every_option_has_help(self):
        for opt in config.TrunkCleanupGroup:
            self.assertTrue(opt.help, opt.name)

    @staticmethod
    def generated(namespace):
        """What ``tox -e genconfig`` writes for ``namespace``."""
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, 'sample.conf')
            conf = cfg.ConfigOpts()
            generator.register_cli_opts(conf)
            conf(['--namespace', namespace, '--wrap-width', '79',
                  '--output-file', out])
            generator.generate(conf)
            with open(out) as f:
                return f.read()

    @staticmethod
    def sample(name):
        top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        with open(os.path.join(top, 'etc', name)) as f:
            return f.read()

    def test_sample_config_is_up_to_date(self):
        self.assertEqual(self.generated('trunk_cleanup_tempest'),
                         self.sample('trunk-cleanup-tempest.conf.sample'),
                         'etc/trunk-cleanup-tempest.conf.sample is '
                         'stale: run "tox -e genconfig"')

    def test_watch_sample_has_its_own_options(self):
        # Only watch's own section: oslo.messaging's options follow its
        # release.
        fresh = self.generated('trunk_cleanup_watch').split(
            '[trunk_cleanup_watch]', 1)[1]
        self.assertIn(fresh, self.sample('trunk-cleanup-watch.conf.sample'),
                      'etc/trunk-cleanup-watch.conf.sample is stale: run '
                      '"tox -e genconfig"')

    def test_bad_choice_is_refused(self):
        conf = cfg.ConfigOpts()
        plugin.TrunkCleanupTempestPlugin().register_opts(conf)
        conf([])
        self.assertRaises(ValueError, conf.set_override,
                          'segmentation_type', 'gre', 'trunk_cleanup')
