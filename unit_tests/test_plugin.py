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

import fixtures
from oslo_config import cfg
from oslo_config import generator
from oslotest import base
from tempest.lib.services.compute import servers_client
from tempest.lib.services.network import ports_client
from tempest.lib.services.network import trunks_client

from trunk_cleanup_tempest import config
from trunk_cleanup_tempest import plugin
from trunk_cleanup_tempest.services import clients


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

    def test_sample_config_is_up_to_date(self):
        top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, 'sample.conf')
            conf = cfg.ConfigOpts()
            generator.register_cli_opts(conf)
            conf(['--namespace', 'trunk_cleanup_tempest', '--wrap-width',
                  '79', '--output-file', out])
            generator.generate(conf)
            with open(out) as f:
                fresh = f.read()
        with open(os.path.join(top, 'etc',
                               'trunk-cleanup-tempest.conf.sample')) as f:
            self.assertEqual(fresh, f.read(),
                             'etc/trunk-cleanup-tempest.conf.sample is '
                             'stale: run "tox -e genconfig"')

    def test_bad_choice_is_refused(self):
        conf = cfg.ConfigOpts()
        plugin.TrunkCleanupTempestPlugin().register_opts(conf)
        conf([])
        self.assertRaises(ValueError, conf.set_override,
                          'segmentation_type', 'gre', 'trunk_cleanup')


class TestClients(base.BaseTestCase):

    env = {'OS_AUTH_URL': 'http://127.0.0.1:5000', 'OS_USERNAME': 'demo',
           'OS_PASSWORD': 'pw', 'OS_PROJECT_NAME': 'demo',
           'OS_INTERFACE': 'internal'}

    def test_builds_tempest_lib_clients_without_calling_the_cloud(self):
        cloud = clients.from_environ(self.env)
        self.assertIsInstance(cloud.trunks_client, trunks_client.TrunksClient)
        self.assertIsInstance(cloud.ports_client, ports_client.PortsClient)
        self.assertIsInstance(cloud.servers_client,
                              servers_client.ServersClient)
        self.assertEqual('internalURL', cloud.trunks_client.endpoint_type)
        self.assertEqual('compute', cloud.servers_client.service)
        self.assertEqual('http://127.0.0.1:5000/v3',
                         cloud.ports_client.auth_provider.auth_url)

    def test_endpoint_overrides_replace_the_catalog(self):
        env = dict(self.env, OS_NETWORK_ENDPOINT_OVERRIDE='http://proxy:1/',
                   OS_COMPUTE_ENDPOINT_OVERRIDE='http://proxy:2/v2.1')
        provider = clients.from_environ(env).ports_client.auth_provider
        auth_data = (None, {'catalog': [{
            'type': 'network', 'name': 'neutron', 'endpoints': [{
                'interface': 'public', 'region': 'RegionOne',
                'url': 'http://real:9696'}]}]})
        self.assertEqual('http://proxy:1', provider.base_url(
            {'service': 'network'}, auth_data))
        self.assertEqual('http://proxy:2/v2.1', provider.base_url(
            {'service': 'compute'}, auth_data))
        plain = clients.from_environ(self.env).ports_client.auth_provider
        self.assertEqual('http://real:9696', plain.base_url(
            {'service': 'network', 'region': 'RegionOne'}, auth_data))

    def write(self, name, data):
        path = os.path.join(self.useFixture(
            fixtures.TempDir()).path, name)
        with open(path, 'w') as f:
            f.write(data)
        return path

    def test_clouds_yaml_with_secure_yaml(self):
        path = self.write('clouds.yaml', (
            'clouds:\n  lc:\n    region_name: R2\n    interface: internal'
            '\n    verify: false\n    network_endpoint_override: '
            'http://proxy:1\n    auth:\n      auth_url: '
            'http://127.0.0.1:5000\n      username: demo\n      '
            'project_name: demo\n      domain_name: Default\n'))
        with open(os.path.join(os.path.dirname(path), 'secure.yaml'),
                  'w') as f:
            f.write('clouds:\n  lc:\n    auth:\n      password: pw\n')
        env = clients.cloud_environ('lc', [path])
        self.assertEqual({'OS_AUTH_URL': 'http://127.0.0.1:5000',
                          'OS_USERNAME': 'demo', 'OS_PASSWORD': 'pw',
                          'OS_PROJECT_NAME': 'demo',
                          'OS_USER_DOMAIN_NAME': 'Default',
                          'OS_PROJECT_DOMAIN_NAME': 'Default',
                          'OS_REGION_NAME': 'R2', 'OS_INTERFACE': 'internal',
                          'OS_INSECURE': 'true',
                          'OS_NETWORK_ENDPOINT_OVERRIDE': 'http://proxy:1'},
                         env)
        cloud = clients.from_args(environ={'OS_CLOUD': 'lc',
                                           'OS_CLIENT_CONFIG_FILE': path})
        self.assertEqual('R2', cloud.trunks_client.region)
        self.assertTrue(cloud.ports_client.dscv)

    def test_unknown_cloud_and_bad_yaml(self):
        path = self.write('clouds.yaml', 'clouds: {}\n')
        exc = self.assertRaises(clients.MissingCredentials,
                                clients.cloud_environ, 'nope', [path])
        self.assertIn("cloud 'nope' not found in %s" % path, str(exc))
        bad = self.write('clouds.yaml', 'clouds: [: oops\n')
        exc = self.assertRaises(clients.MissingCredentials,
                                clients.cloud_environ, 'x', [bad])
        self.assertIn('cannot read', str(exc))

    def test_missing_variables_are_named(self):
        exc = self.assertRaises(clients.MissingCredentials,
                                clients.from_environ,
                                {'OS_AUTH_URL': 'http://x/v3'})
        self.assertIn('OS_USERNAME, OS_PASSWORD, OS_PROJECT_NAME', str(exc))
