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

"""The gate furniture: the Zuul jobs and the devstack tempest.conf snippet
name real options with valid values, and run only this plugin's tests."""

import configparser
import os
import re
import shlex

from oslo_config import cfg
from oslotest import base
import yaml

from trunk_cleanup_tempest.cmd import trunk_cleanup
from trunk_cleanup_tempest import config

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
A_TEST_ID = ('trunk_cleanup_tempest.tests.scenario.test_server_delete.'
             'ServerDeleteTrunkCleanupTest.'
             'test_delete_server_on_trunk_with_subports')


def check_options(testcase, values):
    """Set every value on a real ConfigOpts: unknown or invalid fails."""
    conf = cfg.ConfigOpts()
    conf.register_opts(config.TrunkCleanupGroup,
                       group=config.trunk_cleanup_group)
    conf([])
    for key, value in values.items():
        testcase.assertIn(key, [o.name for o in config.TrunkCleanupGroup])
        conf.set_override(key, str(value), 'trunk_cleanup')
        getattr(conf.trunk_cleanup, key)


class TestZuul(base.BaseTestCase):

    def setUp(self):
        super().setUp()
        with open(os.path.join(TOP, '.zuul.yaml')) as f:
            self.items = yaml.safe_load(f)
        self.jobs = {i['job']['name']: i['job'] for i in self.items
                     if 'job' in i}

    def test_jobs(self):
        base_job = self.jobs['trunk-cleanup-tempest']
        self.assertEqual('devstack-tempest', base_job['parent'])
        self.assertEqual('trunk-cleanup-tempest',
                         self.jobs['trunk-cleanup-tempest-ovs']['parent'])
        variables = base_job['vars']
        self.assertTrue(re.match(variables['tempest_test_regex'], A_TEST_ID))
        self.assertFalse(re.match(variables['tempest_test_regex'],
                                  'tempest.api.network.test_ports'))
        self.assertTrue(variables['devstack_services']['neutron-trunk'])
        self.assertEqual('/opt/stack/trunk-cleanup-tempest',
                         variables['devstack_localrc']['TEMPEST_PLUGINS'])
        check_options(self, variables['devstack_local_conf']['test-config'][
            '$TEMPEST_CONFIG']['trunk_cleanup'])

    def test_ovs_variant_switches_the_driver(self):
        ovs = self.jobs['trunk-cleanup-tempest-ovs']['vars']
        self.assertEqual('openvswitch', ovs['devstack_localrc']['Q_AGENT'])
        self.assertTrue(ovs['devstack_services']['q-agt'])
        self.assertFalse(ovs['devstack_services']['ovn-controller'])

    def test_pipelines_name_defined_jobs(self):
        project = [i['project'] for i in self.items if 'project' in i][0]
        for pipeline in ('check', 'gate'):
            for job in project[pipeline]['jobs']:
                self.assertTrue(job in self.jobs or
                                job.startswith('openstack-tox-'), job)


class TestDevstackSnippet(base.BaseTestCase):

    def test_snippet_options_are_real(self):
        parser = configparser.RawConfigParser()
        parser.read(os.path.join(TOP, 'etc',
                                 'tempest.conf.devstack-snippet'))
        values = dict(parser.items('trunk_cleanup'))
        self.assertIn('expected_after_server_delete', values)
        check_options(self, values)


class TestSystemdUnit(base.BaseTestCase):

    def test_unit_runs_a_valid_watch(self):
        # systemd's unit files are ini files with repeated keys allowed.
        parser = configparser.RawConfigParser(strict=False)
        parser.optionxform = str
        parser.read(os.path.join(TOP, 'etc', 'systemd',
                                 'trunk-cleanup-watch.service'))
        command = shlex.split(parser.get('Service', 'ExecStart'))
        self.assertEqual('trunk-cleanup', os.path.basename(command[0]))
        args = trunk_cleanup.build_parser(command[1:]).parse_args(
            command[1:])
        self.assertEqual('watch', args.command)
        # Nothing secret on the command line: the bus and the
        # credentials come from the config files.
        self.assertIsNone(args.transport_url)
        self.assertFalse([a for a in command if a.startswith('--os-')])
        self.assertEqual(['/etc/trunk-cleanup/watch.conf'],
                         args.config_file)
        # The journal is in the folder systemd makes writable for it.
        self.assertEqual(os.path.join(
            '/var/lib', parser.get('Service', 'StateDirectory')),
            args.state_dir)
        self.assertTrue(args.sweep_orphans)
